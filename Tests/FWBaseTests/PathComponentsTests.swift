import FWBase
import Testing

@Suite struct PathComponentsTests {
    /// `dirname` and `basename`, including the short paths Foundation's NSString path methods crash on.
    @Test(arguments: [
        ("a", "", "a"), ("b/", "", "b"), ("ab", "", "ab"), ("a/b", "a", "b"), ("a/b/", "a", "b"), ("a//b", "a", "b"),
        ("/a", "/", "a"), ("/", "/", "/"), ("//", "/", "/"), ("./a", ".", "a"), ("/x/y/z.yml", "/x/y", "z.yml"), ("", "", ""),
    ])
    func splitsLikeDirnameAndBasename(_ path: String, _ folder: String, _ name: String) {
        #expect(PathComponents.folder(of: path) == folder, "folder of \(path)")
        #expect(PathComponents.name(of: path) == name, "name of \(path)")
    }
}
