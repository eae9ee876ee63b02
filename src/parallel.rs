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

/// The worker threads, started once a process and kept for every stage:
/// starting a thread took 1 to 2.5 ms on the project's machines (its stack,
/// its allocator heap), several times a compile, and a kept thread reuses
/// the memory it freed in an earlier stage. `None` with one thread (or if
/// the threads cannot be started): then every stage runs on the caller.
fn pool() -> Option<&'static rayon::ThreadPool> {
    build(false)
}

/// The pool, built on first use. With `from_main` (the first use is
/// [`start`], on the thread that runs the command), that thread is one of
/// the pool's threads and only `threads() - 1` more are started: every
/// stage is called from it, and it works on its own stages' parts instead
/// of waiting for them. On the project's machines (virtual, two cores) a
/// process whose second thread exists takes ~0.6 ms more to start it and
/// ~0.6 ms more to exit, per thread, measured in C as well: with two cores
/// a third thread only cost that time.
fn build(from_main: bool) -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    if threads() <= 1 {
        return None;
    }
    POOL.get_or_init(|| {
        let builder = rayon::ThreadPoolBuilder::new()
            .num_threads(threads())
            .thread_name(|i| format!("haptic-{i}"))
            // The main thread's size: `haptic diff` checks both versions
            // on workers, and the checker's recursion is bounded for that
            // size (nesting depth, MAX_CHAIN), not for rayon's 2 MiB.
            .stack_size(8 << 20);
        let builder = if from_main {
            builder.use_current_thread()
        } else {
            builder
        };
        builder.build().ok()
    })
    .as_ref()
}

/// Starts the worker threads now, so that the first stage that splits its
/// work does not wait for them (`main` calls it first thing, on the thread
/// that then calls every stage: it becomes one of the pool's threads).
pub fn start() {
    build(true);
}

/// `a` and `b` side by side (on the workers when there are several), and
/// both results.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    match pool() {
        Some(pool) => pool.join(a, b),
        _ => {
            let a = a();
            (a, b())
        }
    }
}

/// `f` of each item, each on a worker of its own when there are enough;
/// the results in the items' order.
pub fn map<T: Send, R: Send>(
    items: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    let items: Vec<T> = items.into_iter().collect();
    match pool() {
        Some(pool) if items.len() > 1 => {
            pool.install(|| items.into_par_iter().with_max_len(1).map(f).collect())
        }
        _ => items.into_iter().map(f).collect(),
    }
}

/// `items` cut into contiguous runs of at least `min_run` items each, a
/// few a thread: a single run when there is one thread or too little work.
/// Runs are taken by whichever thread is free, so a thread that is slowed
/// down (by the system, or by runs with more to do) leaves its share to
/// the others instead of making the stage wait for it.
pub fn runs<T>(items: &[T], min_run: usize) -> Vec<&[T]> {
    const RUNS_PER_THREAD: usize = 4;
    let count = if threads() < 2 {
        1
    } else {
        (threads() * RUNS_PER_THREAD)
            .min(items.len() / min_run.max(1))
            .max(1)
    };
    items.chunks(items.len().div_ceil(count).max(1)).collect()
}
