// Compile-time checks of the idxd UAPI layout the Swift descriptor builder writes by byte
// offset (reference/dsa.md 1.1, 1.5). A header that disagrees fails the build here.
#include "CMemifDSA.h"

_Static_assert(sizeof(struct dsa_hw_desc) == 64, "dsa_hw_desc is 64 bytes");
_Static_assert(sizeof(struct dsa_completion_record) == 32, "dsa_completion_record is 32 bytes");
_Static_assert(offsetof(struct dsa_hw_desc, completion_addr) == 8, "completion_addr at 8");
_Static_assert(offsetof(struct dsa_hw_desc, src_addr) == 16, "src_addr at 16");
_Static_assert(offsetof(struct dsa_hw_desc, dst_addr) == 24, "dst_addr at 24");
_Static_assert(offsetof(struct dsa_hw_desc, xfer_size) == 32, "xfer_size at 32");
_Static_assert(offsetof(struct dsa_hw_desc, desc_count) == 32, "desc_count at 32");
_Static_assert(offsetof(struct dsa_completion_record, bytes_completed) == 4, "bytes_completed at 4");
_Static_assert(offsetof(struct dsa_completion_record, fault_addr) == 8, "fault_addr at 8");
_Static_assert(DSA_OPCODE_MEMMOVE == 3 && DSA_OPCODE_BATCH == 1, "opcodes");
_Static_assert(IDXD_OP_FLAG_CRAV == 4 && IDXD_OP_FLAG_RCR == 8 && IDXD_OP_FLAG_CC == 0x100, "flags");
