fn main() {
    std::process::exit(haptic::cli::main());
}
