//! Signals from the first instruction on, as a Go exporter has them.
//!
//! [`guard`] runs before anything else in `main`: it ignores the signals a Go program ignores
//! (SIGHUP until the reload task listens for it, SIGUSR1, SIGUSR2, SIGPIPE, ...) and blocks
//! SIGTERM and SIGINT, so one that arrives early stays pending instead of killing the process.
//! [`listen`], first thing inside the runtime, installs the handlers and then unblocks them:
//! a pending SIGTERM is delivered to the handler at once. Before the server runs there is
//! nothing to drain, so a SIGTERM or SIGINT then ends the process with exit 0 at once
//! (even if start-up is stuck reading a file); once it serves, it shuts down gracefully.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;
use tracing::info;

/// Signals whose default action would end the process but that a Go exporter ignores.
#[cfg(unix)]
const IGNORED: &[libc::c_int] = &[
    libc::SIGHUP,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPIPE,
    libc::SIGALRM,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGIO,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    libc::SIGPWR,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    libc::SIGSTKFLT,
];

/// Signals that stop the exporter: blocked until their handler is installed.
#[cfg(unix)]
const STOPPING: &[libc::c_int] = &[libc::SIGTERM, libc::SIGINT];

/// Call first in `main`, before any thread starts (threads inherit the blocked set).
pub fn guard() {
    #[cfg(unix)]
    // SAFETY: plain libc calls on a properly initialised signal set; no handler of ours runs.
    unsafe {
        for &signal in IGNORED {
            libc::signal(signal, libc::SIG_IGN);
        }
        set_blocked(libc::SIG_BLOCK);
    }
}

#[cfg(unix)]
unsafe fn set_blocked(how: libc::c_int) {
    let mut set = std::mem::zeroed::<libc::sigset_t>();
    libc::sigemptyset(&mut set);
    for &signal in STOPPING {
        libc::sigaddset(&mut set, signal);
    }
    libc::pthread_sigmask(how, &set, std::ptr::null_mut());
}

/// Whether a SIGTERM or SIGINT came, and whether the server runs (then it drains first).
#[derive(Clone)]
pub struct Shutdown {
    requested: watch::Receiver<bool>,
    serving: Arc<AtomicBool>,
}

impl Shutdown {
    /// From now on a stop signal shuts the server down gracefully instead of exiting at once.
    pub fn serving(&self) {
        self.serving.store(true, Ordering::SeqCst);
    }

    /// Completes once SIGTERM or SIGINT has arrived (at once if one already has).
    pub async fn requested(mut self) {
        let _ = self.requested.wait_for(|stop| *stop).await;
        info!("shutting down");
    }
}

/// Installs the SIGTERM and SIGINT handlers, then unblocks them on this thread (the one that
/// runs `block_on`, which worker threads do not replace). Call first inside the runtime.
pub fn listen() -> Shutdown {
    let (tell, requested) = watch::channel(false);
    let serving = Arc::new(AtomicBool::new(false));
    let stop_now = serving.clone();
    let stops = stop_signals();
    tokio::spawn(async move {
        stops.await;
        if !stop_now.load(Ordering::SeqCst) {
            info!("stopped before serving");
            std::process::exit(0);
        }
        let _ = tell.send(true);
    });
    #[cfg(unix)]
    // SAFETY: as in `guard`; the handlers are installed, so a pending signal is handled.
    unsafe {
        set_blocked(libc::SIG_UNBLOCK);
    }
    Shutdown { requested, serving }
}

/// A future that completes on SIGTERM or SIGINT; the handlers are installed when this returns.
fn stop_signals() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (terminate, interrupt) {
                (Ok(mut terminate), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {},
                        _ = interrupt.recv() => {},
                    }
                }
                (Ok(mut one), Err(_)) | (Err(_), Ok(mut one)) => {
                    one.recv().await;
                }
                (Err(e), Err(_)) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM or SIGINT");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
