// SCTP (RFC 9260, formerly RFC 4960) as the L4 path needs it: the chunk walk
// that parse runs over every SCTP packet (bounds-checked: a malformed packet
// is a drop reason, never a read past the packet or an endless loop), the
// chunk types conntrack follows, and the CRC32c checksum (RFC 9260 appendix A,
// RFC 3309) that NAT recomputes after rewriting a port.
#pragma once

#include <cstdint>

#include "pipelines/common/drop_reason.h"
#include "pipelines/common/protocols.h"

namespace kgw {

inline constexpr uint32_t sctp_common_header_len = 12;  // ports, verification tag, checksum
inline constexpr uint32_t sctp_checksum_off = 8;

// Chunk types (RFC 9260 sec. 3.2).
inline constexpr uint8_t sctp_chunk_data = 0, sctp_chunk_init = 1, sctp_chunk_init_ack = 2, sctp_chunk_abort = 6,
                         sctp_chunk_shutdown = 7, sctp_chunk_shutdown_ack = 8, sctp_chunk_cookie_echo = 10,
                         sctp_chunk_cookie_ack = 11, sctp_chunk_shutdown_complete = 14;

// The chunks of a packet that move an association's state, one bit each, as
// pkt_meta::sctp_chunks holds them (where a TCP segment's flags are). INIT
// sits on the bit of TCP's SYN and no chunk on the bit of its ACK, so that
// conntrack's test for a connection opened anew (a bare SYN, or an INIT)
// costs a TCP segment nothing more. ABORT and SHUTDOWN COMPLETE both end
// the association: one bit.
inline constexpr uint8_t sctp_bit_init_ack = 0x01, sctp_bit_init = 0x02, sctp_bit_cookie_echo = 0x04,
                         sctp_bit_cookie_ack = 0x08, /* 0x10: TCP's ACK, never set */ sctp_bit_shutdown = 0x20,
                         sctp_bit_shutdown_ack = 0x40, sctp_bit_closes = 0x80;

// Walks the chunks of the SCTP packet `l4` (`len` bytes: common header and
// chunks, as the IP header bounds it). Returns drop_reason::count when the
// packet is well formed, and sets `bits` to the sctp_bit_* of its chunks;
// else the reason: the common header cut off (sctp_truncated), no chunk, a
// chunk header cut off, a chunk length below 4 or beyond the packet
// (sctp_bad_chunk), INIT, INIT ACK or SHUTDOWN COMPLETE bundled with another
// chunk, which RFC 9260 sec. 6.10 forbids (sctp_bad_bundle). Each step
// advances by at least 4 bytes, so the walk ends within len / 4 steps.
drop_reason sctp_walk_chunks(const uint8_t* l4, uint32_t len, uint8_t& bits);

// CRC32c (Castagnoli, reflected polynomial 0x82f63b78, initial value and
// final XOR ~0) of the SCTP packet with its checksum field taken as zero, as
// RFC 9260 appendix A computes it: DPDK's rte_hash_crc steps, the SSE4.2
// crc32 instruction on x86 (kgw is built for corei7), a table where DPDK
// finds no CRC instruction.
uint32_t sctp_crc32c(const uint8_t* l4, uint32_t len);
// CRC32c of plain bytes (no field zeroed): the same arithmetic, for tests.
uint32_t crc32c(const uint8_t* p, uint32_t len);

// The checksum field holds the CRC's least significant byte first (RFC 9260
// appendix A: the CRC's bit order is that of the wire; Linux stores
// cpu_to_le32 of it).
bool sctp_checksum_ok(const uint8_t* l4, uint32_t len);
void sctp_set_checksum(uint8_t* l4, uint32_t len);

}  // namespace kgw
