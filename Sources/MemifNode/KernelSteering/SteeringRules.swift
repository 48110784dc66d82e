import MemifPacket
import MemifSteering

/// The nftables, `ip rule` and `ip route` side of one steering path: text built from the
/// attachment's names, applied with ``NetworkCommands``. Install is idempotent (it rebuilds
/// the chains), so a restarted memifd can re-run it over what a previous run left.
struct SteeringRules {
    let names: KernelSteeringNames
    let options: KernelSteeringOptions
    let commands: NetworkCommands

    /// One nft transaction: the table, both chains (emptied, then filled). `udp dport` and
    /// `tcp dport` imply the protocol, so ICMP and other ports never match.
    func nftScript(ipv4: [IPv4Address], ipv6: [IPv6Address], ports: PortRuleSet) -> String {
        let table = "inet \(options.table)"
        var script = "add table \(table)\n"
        let hooks = [
            (names.preroutingChain, "filter", "prerouting"),
            (names.outputChain, "route", "output"),
        ]
        for (chain, type, hook) in hooks {
            script += "add chain \(table) \(chain) { type \(type) hook \(hook) priority \(options.chainPriority); policy accept; }\n"
            script += "flush chain \(table) \(chain)\n"
        }
        let mark = "0x" + String(names.mark, radix: 16)
        // The kernel's own IPv6 multicast (MLD reports) has no business in the pod's memif.
        script += "add rule \(table) \(names.outputChain) oifname \"\(names.tunName)\" ip6 daddr ff00::/8 drop comment \"memifkit \(names.id)\"\n"
        // What the pod sends back, so the reverse-path check finds the tun (see install()).
        script += "add rule \(table) \(names.preroutingChain) iifname \"\(names.tunName)\" meta mark set \(mark) comment \"memifkit \(names.id)\"\n"
        for transport in SteeredProtocol.allCases {
            let set = ports.ranges.filter { $0.transport == transport }.map { r in
                r.first == r.last ? "\(r.first)" : "\(r.first)-\(r.last)"
            }
            guard !set.isEmpty else { continue }
            let match = "\(transport) dport { \(set.joined(separator: ", ")) }"
            for (chain, _, _) in hooks {
                for a in ipv4 {
                    script += "add rule \(table) \(chain) ip daddr \(a) \(match) meta mark set \(mark) comment \"memifkit \(names.id)\"\n"
                }
                for a in ipv6 {
                    script += "add rule \(table) \(chain) ip6 daddr \(a) \(match) meta mark set \(mark) comment \"memifkit \(names.id)\"\n"
                }
            }
        }
        return script
    }

    func installChains(ipv4: [IPv4Address], ipv6: [IPv6Address], ports: PortRuleSet) throws(KernelSteeringError) {
        try commands.check(["nft", "-f", "-"], input: nftScript(ipv4: ipv4, ipv6: ipv6, ports: ports))
    }

    /// Routes in the attachment's table: each pod address into the tun.
    func installRoutes(ipv4: [IPv4Address], ipv6: [IPv6Address]) throws(KernelSteeringError) {
        let table = String(names.routingTable)
        for a in ipv4 { try commands.check(["ip", "-4", "route", "replace", "\(a)/32", "dev", names.tunName, "table", table]) }
        for a in ipv6 { try commands.check(["ip", "-6", "route", "replace", "\(a)/128", "dev", names.tunName, "table", table]) }
    }

    /// The `ip rule`s that send marked packets to the attachment's table (one per family in use).
    func installMarkRules(families: [String]) throws(KernelSteeringError) {
        for family in families {
            try removeMarkRules(families: [family])
            try commands.check([
                "ip", family, "rule", "add", "priority", String(options.rulePriority), "fwmark", "0x" + String(names.mark, radix: 16),
                "lookup", String(names.routingTable),
            ])
        }
    }

    /// Deletes every rule of this attachment, however many a crash left (`ip rule del` removes
    /// one per call; stop at the first failure, which means none is left).
    func removeMarkRules(families: [String] = ["-4", "-6"]) throws(KernelSteeringError) {
        for family in families {
            for _ in 0..<64 {
                let out = try commands.run([
                    "ip", family, "rule", "del", "fwmark", "0x" + String(names.mark, radix: 16), "lookup", String(names.routingTable),
                ])
                if !out.succeeded { break }
            }
        }
    }

    func removeRoutes() throws(KernelSteeringError) {
        for family in ["-4", "-6"] {
            _ = try commands.run(["ip", family, "route", "flush", "table", String(names.routingTable)])
        }
    }

    /// Deletes this attachment's chains, and the table once no chain is left in it.
    func removeChains() throws(KernelSteeringError) {
        let present = try Self.chains(options: options, commands: commands)
        var script = ""
        for chain in [names.preroutingChain, names.outputChain] where present.contains(chain) {
            script += "flush chain inet \(options.table) \(chain)\ndelete chain inet \(options.table) \(chain)\n"
        }
        if !script.isEmpty { try commands.check(["nft", "-f", "-"], input: script) }
        try Self.deleteTableIfEmpty(options: options, commands: commands)
    }

    /// The names of the chains in memifkit's table (empty when the table does not exist).
    static func chains(options: KernelSteeringOptions, commands: NetworkCommands) throws(KernelSteeringError) -> [String] {
        let out = try commands.run(["nft", "-j", "list", "chains", "inet"])
        guard out.succeeded, let root = try? parseJSON(out.standardOutput) as? [String: Any],
            let items = root["nftables"] as? [[String: Any]]
        else { return [] }
        return items.compactMap { item in
            guard let chain = item["chain"] as? [String: Any], chain["table"] as? String == options.table else { return nil }
            return chain["name"] as? String
        }
    }

    static func deleteTableIfEmpty(options: KernelSteeringOptions, commands: NetworkCommands) throws(KernelSteeringError) {
        let exists = try commands.run(["nft", "list", "table", "inet", options.table]).succeeded
        guard exists, try chains(options: options, commands: commands).isEmpty else { return }
        try commands.check(["nft", "delete", "table", "inet", options.table])
    }
}
