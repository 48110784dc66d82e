// What a CNF needs comes with `import MemifKit`: the memif core's queues, buffers, pools
// and configuration, the packet views (PacketHeaders.swift), and the port-steering rules.
@_exported import Memif
@_exported import MemifSteering
