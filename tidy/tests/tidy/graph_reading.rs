//! Tests of the import-graph reader on small crates: that paths land in the file that
//! defines what they name.

use crate::fixture::Fixture;

#[test]
fn paths_resolve_through_re_exports_to_the_defining_file() {
    let fixture = Fixture::new(
        "reexport",
        &[
            ("lib.rs", "//! x\nmod model;\nmod grants;\n"),
            (
                "model/mod.rs",
                "//! x\nmod user;\nmod tenant;\npub use user::User;\npub use tenant::Tenant;\n",
            ),
            ("model/user.rs", "//! x\npub struct User;\n"),
            (
                "model/tenant.rs",
                "//! x\nuse super::User;\npub struct Tenant(User);\n",
            ),
            (
                "grants.rs",
                "//! x\nfn f() {\n    let _ = crate::model::Tenant;\n    tracing::info!(\"{}\", super::model::user::User);\n}\n",
            ),
        ],
    );
    assert_eq!(
        fixture.edges(),
        [
            "grants.rs:3 -> model/tenant.rs",
            "grants.rs:4 -> model/user.rs",
            "model/mod.rs:4 -> model/user.rs",
            "model/mod.rs:5 -> model/tenant.rs",
            "model/tenant.rs:2 -> model/user.rs",
        ]
    );
}

#[test]
fn inline_and_nested_modules_find_their_files() {
    let fixture = Fixture::new(
        "nested",
        &[
            (
                "lib.rs",
                "//! x\nmod a;\nmod inline {\n    use crate::a::b::B;\n}\n",
            ),
            ("a.rs", "//! x\npub mod b;\n"),
            ("a/b.rs", "//! x\npub struct B;\nuse self::c::C;\nmod c;\n"),
            ("a/b/c.rs", "//! x\npub struct C;\n"),
        ],
    );
    assert_eq!(
        fixture.edges(),
        ["a/b.rs:3 -> a/b/c.rs", "lib.rs:4 -> a/b.rs"]
    );
    assert_eq!(fixture.graph().files.len(), 4);
}

#[test]
fn other_crates_are_not_edges_but_are_recorded() {
    let fixture = Fixture::new(
        "external",
        &[(
            "lib.rs",
            "//! x\nuse axum::Router;\nfn f() -> http::StatusCode { todo!() }\n",
        )],
    );
    let graph = fixture.graph();
    assert!(graph.edges.is_empty());
    let roots: Vec<&str> = graph.external.iter().map(|e| e.root.as_str()).collect();
    assert!(
        roots.contains(&"axum") && roots.contains(&"http"),
        "{roots:?}"
    );
}

#[test]
fn test_only_code_makes_test_edges() {
    let fixture = Fixture::new(
        "test-edges",
        &[
            ("lib.rs", "//! x\nmod config;\nmod server;\n"),
            (
                "config.rs",
                "//! x\npub struct Config;\n#[cfg(test)]\nmod tests {\n    use crate::server::app;\n}\n",
            ),
            (
                "server.rs",
                "//! x\nuse crate::config::Config;\npub fn app(_: Config) {}\n",
            ),
        ],
    );
    let graph = fixture.graph();
    assert_eq!(graph.edges.len(), 1, "{:?}", graph.edges);
    assert!(graph.edges[0].from.ends_with("server.rs"));
    assert_eq!(graph.test_edges.len(), 1, "{:?}", graph.test_edges);
    assert!(graph.test_edges[0].from.ends_with("config.rs"));
}
