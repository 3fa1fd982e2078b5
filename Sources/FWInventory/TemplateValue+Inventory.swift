import FWTemplate

extension TemplateValue {
    /// An inventory value (a vars file's, a data file's) as template data, in one pass. Objects keep no key order:
    /// an inventory dict has none, and templates look keys up by name.
    public init(_ value: InventoryValue) {
        switch value {
        case .null: self = .null
        case .bool(let bool): self = .bool(bool)
        case .int(let int): self = .int(int)
        case .double(let double): self = .double(double)
        case .string(let string), .unsafe(let string): self = .string(string)  // !unsafe only stops Jinja2 templating
        case .list(let items):
            self = .list(items.map(TemplateValue.init))
        case .dict(let dict):
            var object = TemplateObject()
            object.reserveCapacity(dict.count)
            for (key, item) in dict { object.set(key, TemplateValue(item)) }
            self = .object(object)
        }
    }
}
