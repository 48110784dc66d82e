import Foundation

/// Parses the JSON a tool printed (`nft -j`, `ip -j`); nil when there is none.
func parseJSON(_ text: String) throws -> Any? {
    guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
    return try JSONSerialization.jsonObject(with: Data(text.utf8))
}
