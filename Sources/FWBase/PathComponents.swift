/// The folder and the name of a path, as `dirname` and `basename` split it, in plain string code: Foundation's
/// `NSString.deletingLastPathComponent` crashes (an illegal instruction) on some short paths here, such as `a`
/// and `b/`, which an inventory given as `-i a` is.
public enum PathComponents {
    /// The folder holding `path`'s last component: "" for a bare name, "/" for one at the root, trailing slashes
    /// ignored (`a/b/` -> `a`).
    public static func folder(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed == "/" ? "/" : "" }
        let folder = trimmingTrailingSlashes(String(trimmed[..<slash]))
        return folder.isEmpty ? "/" : folder
    }

    /// The last component of `path`, trailing slashes ignored; "/" for the root.
    public static func name(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        if trimmed == "/" { return "/" }
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// `path` without slashes at its end, except the one of the root.
    private static func trimmingTrailingSlashes(_ path: String) -> String {
        var result = Substring(path)
        while result.count > 1, result.last == "/" { result = result.dropLast() }
        return String(result)
    }
}
