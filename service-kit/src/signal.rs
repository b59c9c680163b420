//! The signals that stop a service: Ctrl-C for a person, SIGTERM for `docker stop` and
//! process managers.

use std::future::Future;

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what `docker stop` sends).
///
/// The handlers are installed when this is called, not when the future is first polled: a
/// binary that calls it before a slow start-up (the demo starts three services) neither
/// loses a signal that arrives meanwhile nor dies of it the default way.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    #[cfg(unix)]
    let interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    async move {
        #[cfg(unix)]
        match (interrupt, terminate) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            // A handler that cannot be installed: fall back to tokio's Ctrl-C alone.
            _ => {
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    }
}
