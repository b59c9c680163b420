//! The tidy tests: invariants of the whole repository, checked by reading its files. See
//! the crate documentation (`tidy/src/lib.rs`) for what each module checks.

mod cycles;
mod docs;
mod fixture;
mod graph_reading;
mod layers;
mod module_graph;
mod repo;
mod self_contained;
