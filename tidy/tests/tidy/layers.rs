//! fake-auth0's folders are layers, and a layer imports only the layers before it.
//!
//! The order says what may know about what: the tenant's data knows nothing else; the
//! grants know the data, the keys, the tokens and the state, and nothing of HTTP; the HTTP
//! handlers sit on the grants; start-up sits on everything. A file that imports a layer
//! above its own fails the test with the file, the line and both layers, so a new grant or
//! endpoint lands in the layer where it belongs. Every source file must be in a layer, so
//! a new folder is placed deliberately.
//!
//! Below HTTP, the layers also must not name the serving framework (`axum`, `tower`,
//! `askama`): the protocol core is written without it.

use std::path::Path;

use crate::module_graph::{Graph, read_crate};
use crate::repo;

/// A layer: its name and the paths (relative to the crate's `src/`) that belong to it.
pub struct Layer {
    pub name: &'static str,
    pub paths: &'static [&'static str],
    /// Crates the layer's files may not name.
    pub forbidden_crates: &'static [&'static str],
}

/// The serving framework, which only the HTTP layer and start-up use.
const SERVING: &[&str] = &["axum", "tower", "tower_http", "askama"];

/// fake-auth0's layers, lowest first.
pub const FAKE_AUTH0_LAYERS: &[Layer] = &[
    Layer {
        name: "model",
        paths: &["model/"],
        forbidden_crates: &["axum", "tower", "tower_http", "askama", "tokio", "rusqlite"],
    },
    Layer {
        name: "oauth",
        paths: &["oauth/"],
        forbidden_crates: SERVING,
    },
    Layer {
        name: "keys",
        paths: &["keys/"],
        forbidden_crates: SERVING,
    },
    Layer {
        name: "jwt",
        paths: &["jwt/"],
        forbidden_crates: SERVING,
    },
    Layer {
        name: "state",
        paths: &["state/"],
        forbidden_crates: SERVING,
    },
    Layer {
        name: "grants",
        paths: &["grants/"],
        forbidden_crates: SERVING,
    },
    Layer {
        name: "http",
        paths: &["http/"],
        forbidden_crates: &[],
    },
    Layer {
        name: "app",
        paths: &[
            "lib.rs",
            "main.rs",
            "app.rs",
            "config.rs",
            "tls.rs",
            "fuzzing.rs",
        ],
        forbidden_crates: &[],
    },
];

/// The rank of the layer `file` (relative to `src`) belongs to.
fn layer_of(layers: &[Layer], file: &str) -> Option<usize> {
    layers.iter().position(|layer| {
        layer.paths.iter().any(|path| {
            if path.ends_with('/') {
                file.starts_with(path)
            } else {
                file == *path
            }
        })
    })
}

/// Every breach of `layers` in `graph`, whose files live under `src`.
pub fn breaches(layers: &[Layer], graph: &Graph, src: &Path, shown_as: &str) -> Vec<String> {
    let order: Vec<&str> = layers.iter().map(|layer| layer.name).collect();
    let order = order.join(" < ");
    let in_src = |file: &Path| {
        file.strip_prefix(src)
            .map(|relative| relative.display().to_string())
            .ok()
    };
    let mut problems = Vec::new();
    for file in &graph.files {
        let Some(relative) = in_src(file) else {
            continue;
        };
        if layer_of(layers, &relative).is_none() {
            problems.push(format!(
                "{shown_as}/{relative} is in no layer: add its folder to the layer table ({order})"
            ));
        }
    }
    // Test code too: a unit test of a low layer does not need a high one either.
    for edge in graph.edges.iter().chain(&graph.test_edges) {
        let (Some(from), Some(to)) = (in_src(&edge.from), in_src(&edge.to)) else {
            continue;
        };
        let (Some(low), Some(high)) = (layer_of(layers, &from), layer_of(layers, &to)) else {
            continue;
        };
        if high > low {
            problems.push(format!(
                "{shown_as}/{from}:{}: layer `{}` imports layer `{}` ({shown_as}/{to}); a layer may import only the layers before it: {order}",
                edge.line, layers[low].name, layers[high].name
            ));
        }
    }
    for used in &graph.external {
        let Some(relative) = in_src(&used.file) else {
            continue;
        };
        let Some(rank) = layer_of(layers, &relative) else {
            continue;
        };
        if layers[rank].forbidden_crates.contains(&used.root.as_str()) {
            problems.push(format!(
                "{shown_as}/{relative}:{}: layer `{}` names `{}`, which only the layers above it may use",
                used.line, layers[rank].name, used.root
            ));
        }
    }
    problems
}

#[test]
fn fake_auth0_layers_import_only_the_layers_before_them() {
    let src = repo::root().join("fake-auth0/src");
    let mut problems = Vec::new();
    let mut edges = 0;
    for root in ["lib.rs", "main.rs"] {
        let graph = read_crate(&src.join(root)).expect("fake-auth0 parses");
        edges += graph.edges.len() + graph.test_edges.len();
        problems.extend(breaches(FAKE_AUTH0_LAYERS, &graph, &src, "fake-auth0/src"));
    }
    for layer in FAKE_AUTH0_LAYERS {
        for path in layer.paths {
            assert!(
                src.join(path).exists(),
                "layer `{}` names {path}, which does not exist",
                layer.name
            );
        }
    }
    println!(
        "fake-auth0 layers ({}): {edges} file-to-file imports checked, {} breaches",
        FAKE_AUTH0_LAYERS
            .iter()
            .map(|layer| layer.name)
            .collect::<Vec<_>>()
            .join(" < "),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_lower_layer_importing_a_higher_one_is_named_with_its_line() {
    const LAYERS: &[Layer] = &[
        Layer {
            name: "model",
            paths: &["model/"],
            forbidden_crates: &["axum"],
        },
        Layer {
            name: "http",
            paths: &["http/"],
            forbidden_crates: &[],
        },
        Layer {
            name: "app",
            paths: &["lib.rs"],
            forbidden_crates: &[],
        },
    ];
    let fixture = crate::fixture::Fixture::new(
        "layers",
        &[
            ("lib.rs", "//! x\nmod model;\nmod http;\nmod stray;\n"),
            ("model/mod.rs", "//! x\nmod user;\npub use user::User;\n"),
            (
                "model/user.rs",
                "//! x\npub struct User;\n\nfn page() -> crate::http::Page {\n    todo!()\n}\nuse axum::Json;\n",
            ),
            (
                "http/mod.rs",
                "//! x\npub struct Page(crate::model::User);\n",
            ),
            ("stray.rs", "//! x\n"),
        ],
    );

    let problems = breaches(LAYERS, &fixture.graph(), fixture.dir(), "src");

    assert_eq!(
        problems,
        [
            "src/stray.rs is in no layer: add its folder to the layer table (model < http < app)",
            "src/model/user.rs:4: layer `model` imports layer `http` (src/http/mod.rs); a layer may import only the layers before it: model < http < app",
            "src/model/user.rs:7: layer `model` names `axum`, which only the layers above it may use",
        ]
    );
}
