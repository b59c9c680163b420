//! fake-auth0's tenant file loader (`--tenant-file`, YAML): parsing, then the tenant's
//! validation (references between clients, APIs, users, roles and grants).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = fake_auth0::Tenant::from_yaml_str(text, "fuzz.yaml");
    }
});
