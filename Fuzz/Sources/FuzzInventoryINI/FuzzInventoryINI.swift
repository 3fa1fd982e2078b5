@_spi(Fuzzing) import FWInventory

/// libFuzzer entry point: any bytes as an INI inventory, run through `INIInventoryFuzzTarget.exercise` (the same code the fuzz
/// regression tests run). Errors are fine; crashes, hangs and the problems it reports are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInventoryINI(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let problems = INIInventoryFuzzTarget.exercise(bytes)
    precondition(problems.isEmpty, problems.joined(separator: "\n"))
    return 0
}

// SwiftPM links an executable with `--defsym main=<Module>_main`, and -parse-as-library leaves that symbol
// undefined, so libFuzzer's own main never gets linked in. Provide it and hand over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("FuzzInventoryINI_main")
public func fuzzInventoryINIMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv) { data, size in fuzzInventoryINI(data, size) }
}
