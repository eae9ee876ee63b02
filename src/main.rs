// A compile allocates millions of small objects (tree nodes, names,
// words); mimalloc serves them markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(haptic::cli::main());
}
