@_spi(Fuzzing) import FWTemplate

/// libFuzzer entry point: any bytes as a template, run through `TemplateFuzzTarget.exercise` (the same code the fuzz
/// regression tests run). Errors are fine; crashes, hangs, unbounded memory and the problems it reports are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let input = bytes.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let problems = TemplateFuzzTarget.exercise(input)
    precondition(problems.isEmpty, problems.joined(separator: "\n"))
    return 0
}

// SwiftPM links an executable with `main` aliased to `<Target>_main`, which a -parse-as-library fuzz target does
// not define; libFuzzer's own `main` is then never used. So define that symbol and hand over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("FuzzTemplate_main")
public func fuzzTemplateMain(
    _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, fuzzTemplate)
}
