//! The calling thread as a worker of rayon's global pool.
//!
//! burn's CPU backends and the MLP engine split their work over rayon's global pool. A call
//! from a thread outside the pool hands all of its pieces to the pool's workers and sleeps until
//! they finish: with as many workers as cores, the caller's thread then competes with them, and
//! every call costs a sleep and a wake-up. A neural ODE makes hundreds of such calls per training
//! step (a few per stage), so this costs about a fifth of W2's step on two cores (`cargo xtask
//! bench`: the taped RK4 step took 20.6 ms from outside the pool and 17.0 ms from inside).
//! [`join_global_pool`] makes the program's own thread worker 0 of the global pool instead: its
//! parallel calls run their first piece themselves and only wake the other workers.

use std::sync::atomic::{AtomicBool, Ordering};

static JOINED: AtomicBool = AtomicBool::new(false);

/// Builds rayon's global pool (`RAYON_NUM_THREADS` threads, default one per core) with the
/// calling thread as its worker 0. Call it first thing in `main`, before anything uses rayon.
///
/// Returns whether the calling thread is now in the pool. It is not when the global pool was
/// already built (by an earlier call on another thread, or because rayon was used before): the
/// program then works as before, only without this saving. Calling it again from the thread
/// that joined returns `true`.
///
/// ```
/// // In a program's `main`:
/// let in_pool = sysdyn_core::threads::join_global_pool();
/// assert!(in_pool);
/// assert_eq!(rayon::current_thread_index(), Some(0));
/// ```
pub fn join_global_pool() -> bool {
    if rayon::current_thread_index().is_some() {
        return true;
    }
    if JOINED.load(Ordering::Acquire) {
        return false;
    }
    let joined = rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global()
        .is_ok();
    JOINED.store(true, Ordering::Release);
    joined && rayon::current_thread_index().is_some()
}
