//! Work on several threads, joined in order: the one place stages split a
//! large project's work. Results never depend on the number of threads
//! (each stage's parts are contiguous and joined in order), and a panic
//! on a worker is resumed on the caller's thread.

/// How many threads a stage may use for one large project: the machine's
/// cores, or `HAPTIC_THREADS` where set (`HAPTIC_THREADS=1` runs every stage
/// on one thread). Results do not depend on it. Read once a process.
pub fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("HAPTIC_THREADS")
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// `a` and `b` side by side (`a` on another thread when there are several),
/// and both results.
pub fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    if threads() <= 1 {
        let a = a();
        return (a, b());
    }
    std::thread::scope(|scope| {
        let a = scope.spawn(a);
        let b = b();
        (resumed(a.join()), b)
    })
}

/// `f` of each item, each on a thread of its own; the results in the items'
/// order.
pub fn map<T: Send, R: Send>(
    items: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .into_iter()
            .map(|item| scope.spawn(move || f(item)))
            .collect();
        workers.into_iter().map(|w| resumed(w.join())).collect()
    })
}

/// `items` cut into contiguous runs, one a thread, of at least `min_run`
/// items each: a single run when there is one thread or too little work.
pub fn runs<T>(items: &[T], min_run: usize) -> Vec<&[T]> {
    let count = threads().min(items.len() / min_run.max(1)).max(1);
    items.chunks(items.len().div_ceil(count).max(1)).collect()
}

fn resumed<R>(result: std::thread::Result<R>) -> R {
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
