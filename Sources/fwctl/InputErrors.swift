// Library error types caused by the user's input (inventory, policy, template): they exit with status 2.
// One line per type, so each library's errors are classified in one place.
import FWCommandLine
import FWInventory
import FWLab
import FWTemplate

extension InventoryError: InvalidInputError {}
extension TemplateError: InvalidInputError {}
extension LabInputError: InvalidInputError {}
