//! Durable-tenant tests: the real `fake-auth0` binary run on a data dir, killed with
//! SIGKILL and restarted, and signing-key rotation through the Management API and on a
//! schedule. Each test picks a free port by binding 127.0.0.1:0 (a restarted process must
//! come back on the same issuer) and polls `/health` until the server answers.

mod instance;
mod kill_loop;
mod persistence;
mod rotation;
