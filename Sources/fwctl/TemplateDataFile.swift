import FWCommandLine
import FWInventory
import FWTemplate

/// Data files for `fwctl template render --data`: read as Ansible reads vars files (FWInventory's JSON and YAML
/// readers), so a template sees the values fwctl's own render would.
enum TemplateDataFile {
    static func load(_ path: String) throws -> TemplateValue {
        let values = try DataFile.readTemplateData(path)
        keepUntilExit(values)
        return values
    }
}
