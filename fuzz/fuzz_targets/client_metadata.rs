//! fake-auth0's Client ID Metadata Documents: the input's first line is the `client_id`
//! (a URL), the rest the document that URL served.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_auth0_fuzz::split_line;

fuzz_target!(|data: &[u8]| {
    let (client_id, document) = split_line(data);
    let Ok(client_id) = std::str::from_utf8(client_id) else {
        return;
    };
    if let Ok(accepted) = fake_auth0::fuzzing::client_id_metadata_document(client_id, document) {
        // The draft's one hard rule: the document names the URL it was fetched from.
        assert_eq!(accepted, client_id);
    }
});
