// What a CNF needs comes with `import MemifKit`: the memif core's queues, buffers, pools
// and configuration.
@_exported import Memif
