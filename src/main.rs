fn main() -> std::process::ExitCode {
    braze_exporter::cli::main()
}
