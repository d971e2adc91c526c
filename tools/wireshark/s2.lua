-- Wireshark / tshark dissector for the s2 protocol (SpiNNaker2 host <-> board), version 1.
-- Specification: docs/protocol.md (header: section 2; messages: 4.1-4.17). Usage and field
-- list: docs/wireshark.md.
--
--   tshark -r cap.pcap -X lua_script:tools/wireshark/s2.lua -Y s2
--
-- Registered as a heuristic dissector on UDP (magic "S2NP", version 1, payload_len agreeing
-- with the datagram's length) and on the UDP ports of the preference "s2.ports" (empty by
-- default: s2emu and the boards' hosts choose their ports dynamically).
-- Written for Lua 5.2 (Wireshark 3.x / 4.0). Malformed bodies are flagged with expert info,
-- never with a Lua error.

local s2 = Proto("s2", "SpiNNaker2 s2 protocol")

local HDR_LEN = 40
local MAGIC = 0x504E3253
local MAX_PAYLOAD = 1432

---------------------------------------------------------------------------------------------
-- Value strings
---------------------------------------------------------------------------------------------
local type_names = {
	[0x01] = "ANNOUNCE", [0x02] = "DISCOVER", [0x03] = "BOOT_START", [0x04] = "BOOT_DATA",
	[0x05] = "BOOT_END", [0x06] = "BOARD_STATUS", [0x07] = "LEASE", [0x08] = "KEY",
	[0x10] = "CHIP_INFO", [0x11] = "MEM_READ", [0x12] = "MEM_WRITE", [0x13] = "CORE_STATES",
	[0x14] = "IOBUF", [0x15] = "SIGNAL",
	[0x20] = "ROUTER_LOAD", [0x21] = "APP_LOAD", [0x22] = "APP_RUN", [0x23] = "APP_STATUS",
	[0x24] = "APP_STOP",
	[0x25] = "APP_UPDATE",
	[0x30] = "BMP_INFO", [0x31] = "BMP_POWER", [0x32] = "FLASH_STATUS", [0x33] = "FLASH_BEGIN",
	[0x34] = "FLASH_DATA", [0x35] = "FLASH_READ", [0x36] = "FLASH_COMMIT",
	[0x40] = "BULK_BEGIN", [0x41] = "BULK_DATA", [0x42] = "BULK_SACK", [0x43] = "BULK_POLL",
	[0x44] = "BULK_END", [0x45] = "BULK_READ",
	[0x50] = "STREAM_START", [0x51] = "STREAM_STOP", [0x52] = "STREAM_DATA", [0x53] = "INJECT",
}

local status_names = {
	[0] = "S2_OK", [-1] = "S2_E_SHORT", [-2] = "S2_E_MAGIC", [-3] = "S2_E_VERSION",
	[-4] = "S2_E_LENGTH", [-5] = "S2_E_CRC", [-6] = "S2_E_RESERVED", [-7] = "S2_E_TYPE",
	[-8] = "S2_E_RANGE", [-9] = "S2_E_NOSPACE", [-10] = "S2_E_INVAL", [-11] = "S2_E_NOMEM",
	[-12] = "S2_E_IO", [-13] = "S2_E_TIMEOUT", [-14] = "S2_E_FORMAT", [-15] = "S2_E_NOTFOUND",
	[-16] = "S2_E_STATE", [-17] = "S2_E_DEAD", [-18] = "S2_E_AUTH", [-19] = "S2_E_BUSY",
	[-20] = "S2_E_STALE",
}

local board_state_names = { [0] = "unbooted", [1] = "booting", [2] = "booted" }
local space_names = { [0] = "chip DRAM", [1] = "PE SRAM" }
local core_state_names = { [0] = "dead", [1] = "idle", [2] = "running", [3] = "stopped",
	[4] = "monitor" }
local signal_names = { [1] = "start", [2] = "stop", [3] = "reset" }
local power_names = { [0] = "off", [1] = "on", [2] = "reset" }
local slot_state_names = { [0] = "empty", [1] = "writing", [2] = "valid", [3] = "trying",
	[4] = "good", [5] = "bad" }
local app_state_names = { [0] = "idle", [1] = "loaded", [2] = "armed", [3] = "running",
	[4] = "done", [5] = "loading", [6] = "failed" }
local rec_kind_names = { [1] = "spikes", [2] = "energy", [3] = "event" }
local run_event_names = { [1] = "started", [2] = "done", [3] = "stopped" }

---------------------------------------------------------------------------------------------
-- Fields
---------------------------------------------------------------------------------------------
local f = {}
local function F(name, field) f[name] = field end

-- header (section 2.1)
F("magic", ProtoField.uint32("s2.magic", "Magic", base.HEX))
F("version", ProtoField.uint8("s2.version", "Version", base.DEC))
F("type", ProtoField.uint8("s2.type", "Type", base.HEX, type_names))
F("flags", ProtoField.uint16("s2.flags", "Flags", base.HEX))
F("flags_reply", ProtoField.bool("s2.flags.reply", "Reply", 16, nil, 0x0001))
F("flags_error", ProtoField.bool("s2.flags.error", "Error", 16, nil, 0x0002))
F("flags_auth", ProtoField.bool("s2.flags.auth", "Authenticated", 16, nil, 0x0004))
F("flags_ackreq", ProtoField.bool("s2.flags.ackreq", "Acknowledgement requested", 16, nil, 0x0008))
F("flags_rsvd", ProtoField.uint16("s2.flags.reserved", "Reserved flags", base.HEX, nil, 0xFFF0))
F("seq", ProtoField.uint32("s2.seq", "Sequence number", base.DEC))
F("board", ProtoField.uint16("s2.board", "Board", base.DEC))
F("chip", ProtoField.uint16("s2.chip", "Chip", base.DEC))
F("pe", ProtoField.uint8("s2.pe", "PE", base.DEC))
F("hdr_rsvd", ProtoField.uint8("s2.reserved", "Reserved", base.HEX))
F("payload_len", ProtoField.uint16("s2.payload_len", "Payload length", base.DEC))
F("crc", ProtoField.uint32("s2.crc", "CRC-32", base.HEX))
F("crc_status", ProtoField.string("s2.crc.status", "CRC status"))
F("auth_tag", ProtoField.bytes("s2.auth_tag", "Authentication tag"))
F("payload", ProtoField.bytes("s2.payload", "Payload"))
F("status", ProtoField.int32("s2.status", "Status", base.DEC, status_names))
F("response_in", ProtoField.framenum("s2.response_in", "Response in"))
F("response_to", ProtoField.framenum("s2.response_to", "Request in"))
F("rsvd", ProtoField.bytes("s2.body.reserved", "Reserved"))
F("data", ProtoField.bytes("s2.data", "Data"))
F("data_len", ProtoField.uint32("s2.data.len", "Data length", base.DEC))
F("version_str", ProtoField.string("s2.version_string", "Version string"))
F("pe_bitmap", ProtoField.bytes("s2.pe_bitmap", "PE bitmap"))
F("pe_count", ProtoField.uint32("s2.pe_bitmap.count", "PEs set", base.DEC))
F("pe_list", ProtoField.string("s2.pe_bitmap.pes", "PEs"))

-- 4.2 board identity
F("id_board", ProtoField.uint16("s2.ident.board", "Board", base.DEC))
F("id_state", ProtoField.uint8("s2.ident.state", "State", base.DEC, board_state_names))
F("id_eth_chip", ProtoField.uint8("s2.ident.eth_chip", "Ethernet chip", base.DEC))
F("id_serial", ProtoField.uint32("s2.ident.serial", "Serial", base.DEC))
F("id_chips", ProtoField.uint16("s2.ident.chips", "Chips", base.DEC))
F("id_pes", ProtoField.uint16("s2.ident.pes_per_chip", "PEs per chip", base.DEC))
-- 4.3 boot
F("boot_image_len", ProtoField.uint32("s2.boot.image_len", "Image length", base.DEC))
F("boot_image_crc", ProtoField.uint32("s2.boot.image_crc", "Image CRC-32", base.HEX))
F("boot_block_size", ProtoField.uint16("s2.boot.block_size", "Block size", base.DEC))
F("boot_block", ProtoField.uint32("s2.boot.block", "Block", base.DEC))
-- 4.4 board status
F("bs_state", ProtoField.uint8("s2.board_status.state", "State", base.DEC, board_state_names))
F("bs_chips", ProtoField.uint8("s2.board_status.chips", "Chips", base.DEC))
F("bs_boot_us", ProtoField.uint32("s2.board_status.boot_us", "Boot spread (us)", base.DEC))
F("bs_alive", ProtoField.uint64("s2.board_status.chips_alive", "Chips alive", base.HEX))
F("bs_alive_n", ProtoField.uint32("s2.board_status.chips_alive.count", "Chips alive (count)", base.DEC))
-- 4.18 lease
F("ls_op", ProtoField.uint8("s2.lease.op", "Operation", base.DEC,
	{ [0] = "status", [1] = "acquire", [2] = "release" }))
F("ls_flags", ProtoField.uint8("s2.lease.flags", "Flags", base.HEX, { [0] = "none", [1] = "force" }))
F("ls_ttl", ProtoField.uint32("s2.lease.ttl_ms", "Time to live (ms)", base.DEC))
F("ls_token", ProtoField.uint64("s2.lease.token", "Token", base.HEX))
F("ls_held", ProtoField.uint8("s2.lease.held", "Held", base.DEC, { [0] = "no", [1] = "yes" }))
F("ls_mine", ProtoField.uint8("s2.lease.mine", "Held by the requester", base.DEC, { [0] = "no", [1] = "yes" }))
F("ls_remaining", ProtoField.uint32("s2.lease.remaining_ms", "Remaining (ms)", base.DEC))
F("ls_refused", ProtoField.uint32("s2.lease.refused", "Requests refused as busy", base.DEC))
F("ls_forced", ProtoField.uint32("s2.lease.forced", "Taken by force", base.DEC))
F("trailer", ProtoField.bytes("s2.auth", "Authentication trailer (2.3)"))
F("tr_key", ProtoField.uint32("s2.auth.key_id", "Key id", base.DEC))
F("tr_counter", ProtoField.uint32("s2.auth.counter", "Counter", base.DEC))
F("tr_session", ProtoField.uint64("s2.auth.session", "Session", base.HEX))
F("key_op", ProtoField.uint8("s2.key.op", "Operation", base.DEC, { [0] = "list", [1] = "add", [2] = "revoke" }))
F("key_role", ProtoField.uint8("s2.key.role", "Role", base.DEC, { [0] = "-", [1] = "machine", [2] = "job" }))
F("key_id", ProtoField.uint32("s2.key.id", "Key id", base.DEC))
F("key_wrapped", ProtoField.bytes("s2.key.wrapped", "Wrapped key"))
F("key_counter", ProtoField.uint32("s2.key.counter", "Guard counter", base.DEC))
F("key_n", ProtoField.uint32("s2.key.n", "Keys", base.DEC))
F("bk_hash", ProtoField.bytes("s2.bulk.hash", "Region BLAKE2b-256 (authenticated, 2.3)"))
-- 4.5 chip info
F("ci_chip", ProtoField.uint16("s2.chip_info.chip", "Chip", base.DEC))
F("ci_pes", ProtoField.uint8("s2.chip_info.pes", "PEs", base.DEC))
F("ci_links", ProtoField.uint8("s2.chip_info.links_alive", "Links alive", base.HEX))
F("ci_sram", ProtoField.uint32("s2.chip_info.sram_per_pe", "SRAM per PE", base.DEC))
F("ci_router", ProtoField.uint32("s2.chip_info.router_entries", "Router entries", base.DEC))
F("ci_dram", ProtoField.uint64("s2.chip_info.dram_bytes", "DRAM bytes", base.DEC))
-- 4.6 memory
F("mem_space", ProtoField.uint8("s2.mem.space", "Space", base.DEC, space_names))
F("mem_addr", ProtoField.uint32("s2.mem.addr", "Address", base.HEX))
F("mem_len", ProtoField.uint16("s2.mem.len", "Length", base.DEC))
-- 4.7 core states
F("cs_n", ProtoField.uint8("s2.cores.n", "PEs", base.DEC))
F("cs_state", ProtoField.uint8("s2.cores.state", "PE state", base.DEC, core_state_names))
-- 4.8 iobuf
F("io_offset", ProtoField.uint32("s2.iobuf.offset", "Offset", base.DEC))
F("io_max_len", ProtoField.uint16("s2.iobuf.max_len", "Max length", base.DEC))
F("io_total", ProtoField.uint32("s2.iobuf.total", "Total written", base.DEC))
F("io_text", ProtoField.string("s2.iobuf.text", "Text"))
-- 4.9 signal
F("sig_signal", ProtoField.uint8("s2.signal.signal", "Signal", base.DEC, signal_names))
F("sig_count", ProtoField.uint16("s2.signal.count", "PEs changed", base.DEC))
-- 4.10 / 4.11 board controller
F("bmp_board", ProtoField.uint16("s2.bmp.board", "Board", base.DEC))
F("bmp_power", ProtoField.uint8("s2.bmp.power", "Power", base.DEC, { [0] = "off", [1] = "on" }))
F("bmp_serial", ProtoField.uint32("s2.bmp.serial", "Serial", base.DEC))
F("bmp_action", ProtoField.uint8("s2.bmp.action", "Action", base.DEC, power_names))
-- 4.13 flash
F("fl_board_type", ProtoField.uint16("s2.flash.board_type", "Board type", base.DEC))
F("fl_booted_slot", ProtoField.uint8("s2.flash.booted_slot", "Booted slot", base.DEC, { [0xFF] = "none" }))
F("fl_slot_size", ProtoField.uint32("s2.flash.slot_size", "Slot size", base.DEC))
F("fl_slot", ProtoField.uint8("s2.flash.slot", "Slot", base.DEC))
F("fl_state", ProtoField.uint8("s2.flash.state", "Slot state", base.DEC, slot_state_names))
F("fl_seq", ProtoField.uint32("s2.flash.seq", "Generation", base.DEC))
F("fl_length", ProtoField.uint32("s2.flash.length", "Length", base.DEC))
F("fl_crc", ProtoField.uint32("s2.flash.crc", "CRC-32", base.HEX))
F("fl_flags", ProtoField.uint8("s2.flash.flags", "Flags", base.HEX))
F("fl_zlib", ProtoField.bool("s2.flash.flags.zlib", "zlib", 8, nil, 0x01))
F("fl_raw_len", ProtoField.uint16("s2.flash.raw_len", "Raw length", base.DEC))
F("fl_offset", ProtoField.uint32("s2.flash.offset", "Offset", base.DEC))
F("fl_raw_crc", ProtoField.uint32("s2.flash.raw_crc", "Raw CRC-32", base.HEX))
F("fl_len", ProtoField.uint16("s2.flash.len", "Length", base.DEC))
-- 4.15 applications
F("rt_addr", ProtoField.uint32("s2.router.addr", "Table address", base.HEX))
F("rt_n", ProtoField.uint32("s2.router.n_entries", "Entries", base.DEC))
F("app_blob_addr", ProtoField.uint32("s2.app.blob_addr", "Blob address", base.HEX))
F("app_blob_len", ProtoField.uint32("s2.app.blob_len", "Blob length", base.DEC))
F("app_spk_addr", ProtoField.uint32("s2.app.spike_rec_addr", "Spike recording address", base.HEX))
F("app_spk_size", ProtoField.uint32("s2.app.spike_rec_size", "Spike recording size", base.DEC))
F("app_v_addr", ProtoField.uint32("s2.app.v_rec_addr", "Voltage recording address", base.HEX))
F("app_v_size", ProtoField.uint32("s2.app.v_rec_size", "Voltage recording size", base.DEC))
F("app_rec_hdr", ProtoField.uint32("s2.app.rec_hdr", "Recording header length", base.DEC))
F("app_n_steps", ProtoField.uint32("s2.app.n_steps", "Steps", base.DEC))
F("app_flags", ProtoField.uint32("s2.app.flags", "Run flags", base.HEX))
F("app_realtime", ProtoField.bool("s2.app.flags.realtime", "Pace to real time", 32, nil, 0x1))
F("app_state", ProtoField.uint8("s2.app.state", "State", base.DEC, app_state_names))
F("app_pes", ProtoField.uint32("s2.app.pes", "PEs loaded", base.DEC))
F("app_steps_done", ProtoField.uint32("s2.app.steps_done", "Steps done", base.DEC))
F("app_pending", ProtoField.uint32("s2.app.pending", "Loads pending", base.DEC))
F("app_load_error", ProtoField.int32("s2.app.load_error", "Load error", base.DEC, status_names))
F("app_load_chip", ProtoField.uint16("s2.app.load_chip", "Load error chip", base.DEC))
F("app_load_pe", ProtoField.uint16("s2.app.load_pe", "Load error PE", base.DEC))
local app_counters = { "neuron_updates", "synaptic_events", "spikes_sent", "packets_in",
	"packets_unknown_key", "router_traversals", "packets_dropped", "rec_bytes_lost",
	"ring_saturations" }
for _, n in ipairs(app_counters) do
	F("app_" .. n, ProtoField.uint64("s2.app." .. n, n, base.DEC))
end
-- 4.16 bulk
F("bk_region", ProtoField.uint32("s2.bulk.region", "Region", base.DEC))
F("bk_space", ProtoField.uint8("s2.bulk.space", "Space", base.DEC, space_names))
F("bk_addr", ProtoField.uint32("s2.bulk.addr", "Address", base.HEX))
F("bk_len", ProtoField.uint32("s2.bulk.len", "Length", base.DEC))
F("bk_crc", ProtoField.uint32("s2.bulk.crc", "Region CRC-32", base.HEX))
F("bk_block_size", ProtoField.uint16("s2.bulk.block_size", "Block size", base.DEC))
F("bk_block", ProtoField.uint32("s2.bulk.block", "Block", base.DEC))
F("bk_raw_len", ProtoField.uint16("s2.bulk.raw_len", "Raw length", base.DEC))
F("bk_flags8", ProtoField.uint8("s2.bulk.flags", "Flags", base.HEX))
F("bk_zlib", ProtoField.bool("s2.bulk.flags.zlib", "zlib", 8, nil, 0x01))
F("bk_raw_crc", ProtoField.uint32("s2.bulk.raw_crc", "Raw CRC-32", base.HEX))
F("bk_cum", ProtoField.uint32("s2.bulk.cum", "Cumulative ack", base.DEC))
F("bk_bad", ProtoField.uint32("s2.bulk.bad", "Rejected blocks", base.DEC))
F("bk_flags16", ProtoField.uint16("s2.bulk.sack_flags", "SACK flags", base.HEX))
F("bk_timeout", ProtoField.bool("s2.bulk.sack_flags.timeout", "TIMEOUT", 16, nil, 0x0001))
F("bk_bm_len", ProtoField.uint16("s2.bulk.bm_len", "Bitmap length", base.DEC))
F("bk_bitmap", ProtoField.bytes("s2.bulk.bitmap", "SACK bitmap"))
F("bk_sacked", ProtoField.uint32("s2.bulk.sacked", "Blocks acknowledged beyond cum", base.DEC))
F("bk_window", ProtoField.uint16("s2.bulk.window", "Window", base.DEC))
F("bk_n_blocks", ProtoField.uint32("s2.bulk.n_blocks", "Blocks", base.DEC))
-- 4.17 streams
F("st_id", ProtoField.uint32("s2.stream.id", "Stream id", base.HEX))
F("st_flags", ProtoField.uint32("s2.stream.flags", "Stream flags", base.HEX))
F("st_f_spikes", ProtoField.bool("s2.stream.flags.spikes", "Spikes", 32, nil, 0x1))
F("st_f_energy", ProtoField.bool("s2.stream.flags.energy", "Energy samples", 32, nil, 0x2))
F("st_period", ProtoField.uint32("s2.stream.energy_period", "Energy period (steps)", base.DEC))
F("st_addr", ProtoField.ipv4("s2.stream.addr", "Destination address"))
F("st_port", ProtoField.uint16("s2.stream.port", "Destination port", base.DEC))
F("st_n_chips", ProtoField.uint16("s2.stream.n_chips", "Chips", base.DEC))
F("st_chip_pes", ProtoField.uint32("s2.stream.chip_pes", "PEs streamed", base.DEC))
F("st_total_pes", ProtoField.uint32("s2.stream.total_pes", "PEs streamed, all chips", base.DEC))
F("st_dropped", ProtoField.uint32("s2.stream.dropped", "Records dropped", base.DEC))
F("st_first_us", ProtoField.uint64("s2.stream.first_us", "First record (us)", base.DEC))
F("st_n_recs", ProtoField.uint32("s2.stream.records", "Records", base.DEC))
F("rec", ProtoField.bytes("s2.stream.rec", "Record"))
F("rec_kind", ProtoField.uint8("s2.stream.rec.kind", "Kind", base.DEC, rec_kind_names))
F("rec_len", ProtoField.uint16("s2.stream.rec.length", "Length", base.DEC))
F("sp_step", ProtoField.uint32("s2.stream.spike.step", "Step", base.DEC))
F("sp_chip", ProtoField.uint16("s2.stream.spike.chip", "Chip", base.DEC))
F("sp_pe", ProtoField.uint8("s2.stream.spike.pe", "PE", base.DEC))
F("sp_n", ProtoField.uint32("s2.stream.spike.count", "Spikes", base.DEC))
F("sp_neuron", ProtoField.uint16("s2.stream.spike.neuron", "Neuron", base.DEC))
F("en_step", ProtoField.uint32("s2.stream.energy.step", "Step", base.DEC))
F("en_chip", ProtoField.uint16("s2.stream.energy.chip", "Chip", base.DEC))
F("en_time", ProtoField.uint64("s2.stream.energy.time_us", "Time (us)", base.DEC))
local energy_counters = { "neuron_updates", "synaptic_events", "spikes_sent", "packets_in",
	"packets_routed", "dma_bytes", "pe_steps", "energy_uj" }
for _, n in ipairs(energy_counters) do
	F("en_" .. n, ProtoField.uint64("s2.stream.energy." .. n, n, base.DEC))
end
F("ev_step", ProtoField.uint32("s2.stream.event.step", "Step", base.DEC))
F("ev_event", ProtoField.uint16("s2.stream.event.event", "Event", base.DEC, run_event_names))
F("ev_time", ProtoField.uint64("s2.stream.event.time_us", "Time (us)", base.DEC))
F("inj_step", ProtoField.uint32("s2.inject.step", "Step", base.DEC))
F("inj_n", ProtoField.uint16("s2.inject.n", "Entries", base.DEC))
F("inj_chip", ProtoField.uint16("s2.inject.chip", "Chip", base.DEC))
F("inj_neuron", ProtoField.uint16("s2.inject.neuron", "Neuron", base.DEC))
F("inj_pe", ProtoField.uint8("s2.inject.pe", "PE", base.DEC))
F("inj_accepted", ProtoField.uint16("s2.inject.accepted", "Accepted", base.DEC))
F("inj_late", ProtoField.uint16("s2.inject.late", "Late", base.DEC))

local field_list = {}
for _, v in pairs(f) do field_list[#field_list + 1] = v end
s2.fields = field_list

-- expert info
local ef = {
	malformed = ProtoExpert.new("s2.malformed", "Malformed s2 body", expert.group.MALFORMED, expert.severity.ERROR),
	header = ProtoExpert.new("s2.bad_header", "Bad s2 header", expert.group.MALFORMED, expert.severity.ERROR),
	reserved = ProtoExpert.new("s2.reserved_nonzero", "Reserved field not zero", expert.group.PROTOCOL, expert.severity.WARN),
	crc = ProtoExpert.new("s2.crc.bad", "CRC-32 mismatch", expert.group.CHECKSUM, expert.severity.ERROR),
	unknown = ProtoExpert.new("s2.unknown_type", "Unknown message type", expert.group.UNDECODED, expert.severity.WARN),
	errreply = ProtoExpert.new("s2.error_reply", "Error reply", expert.group.RESPONSE_CODE, expert.severity.NOTE),
}
s2.experts = { ef.malformed, ef.header, ef.reserved, ef.crc, ef.unknown, ef.errreply }

-- preferences
s2.prefs.ports = Pref.range("UDP ports", "", "UDP ports decoded as s2 besides the heuristic (e.g. 17890-17899)", 65535)
s2.prefs.check_crc = Pref.bool("Check CRC-32", true, "Verify each packet's CRC-32 (section 3)")
s2.prefs.heuristic = Pref.bool("Heuristic on UDP", true, "Recognise s2 packets on any UDP port by magic, version and length")

---------------------------------------------------------------------------------------------
-- CRC-32 (zlib / IEEE 802.3)
---------------------------------------------------------------------------------------------
local band, bxor, rshift = bit32.band, bit32.bxor, bit32.rshift
local crc_table = {}
for i = 0, 255 do
	local c = i
	for _ = 1, 8 do
		if band(c, 1) ~= 0 then c = bxor(0xEDB88320, rshift(c, 1)) else c = rshift(c, 1) end
	end
	crc_table[i] = c
end
local function crc32_update(crc, s)
	for i = 1, #s do
		crc = bxor(crc_table[band(bxor(crc, s:byte(i)), 0xFF)], rshift(crc, 8))
	end
	return crc
end
local function packet_crc(tvb)
	local n = tvb:len()
	local c = 0xFFFFFFFF
	c = crc32_update(c, tvb:raw(0, 20))
	c = crc32_update(c, "\0\0\0\0")
	if n > 24 then c = crc32_update(c, tvb:raw(24, n - 24)) end
	return bxor(c, 0xFFFFFFFF)
end

---------------------------------------------------------------------------------------------
-- Bounded body reader: every read is checked against the bytes present; the first failure
-- adds one expert item and makes every later read return nil (like struct s2_rd).
---------------------------------------------------------------------------------------------
local Rd = {}
Rd.__index = Rd
local function rd_new(tvb, off, len, tree, pinfo)
	return setmetatable({ tvb = tvb, pos = off, stop = off + len, tree = tree, pinfo = pinfo,
		bad = false }, Rd)
end
function Rd:left() return self.stop - self.pos end
function Rd:fail(msg)
	if not self.bad then
		self.bad = true
		self.tree:add_proto_expert_info(ef.malformed, msg)
	end
	return nil
end
function Rd:need(n, what)
	if self.bad then return false end
	if self:left() < n then
		self:fail(string.format("body too short: %s needs %d bytes, %d left", what, n, self:left()))
		return false
	end
	return true
end
-- add(field, size[, tree]): add a little-endian field, return its value (numbers for <= 4 bytes,
-- UInt64 for 8) and the item.
function Rd:add(field, size, tree, what)
	if not self:need(size, what or "field") then return nil end
	local r = self.tvb(self.pos, size)
	local item = (tree or self.tree):add_le(field, r)
	self.pos = self.pos + size
	local v
	if size <= 4 then v = r:le_uint() else v = r:le_uint64() end
	return v, item, r
end
function Rd:adds(field, size, tree) -- signed 32
	if not self:need(size, "field") then return nil end
	local r = self.tvb(self.pos, size)
	local item = (tree or self.tree):add_le(field, r)
	self.pos = self.pos + size
	return r:le_int(), item
end
function Rd:rsvd(size, tree)
	if not self:need(size, "reserved") then return end
	local r = self.tvb(self.pos, size)
	local item = (tree or self.tree):add(f.rsvd, r)
	for i = 0, size - 1 do
		if r(i, 1):uint() ~= 0 then
			item:add_proto_expert_info(ef.reserved)
			break
		end
	end
	self.pos = self.pos + size
end
function Rd:bytes(field, size, tree)
	if size <= 0 then return nil end
	if not self:need(size, "data") then return nil end
	local r = self.tvb(self.pos, size)
	local item = (tree or self.tree):add(field, r)
	self.pos = self.pos + size
	return r, item
end
function Rd:rest(field, tree)
	local n = self:left()
	if self.bad or n <= 0 then return nil, 0 end
	local r = self:bytes(field, n, tree)
	return r, n
end
function Rd:str32(tree)
	if not self:need(32, "version string") then return nil end
	local r = self.tvb(self.pos, 32)
	local item = (tree or self.tree):add(f.version_str, r)
	self.pos = self.pos + 32
	return r:stringz()
end
-- PE bitmap of 20 bytes: the bytes, the count and the list of set PEs.
function Rd:bitmap(tree, label)
	if not self:need(20, "PE bitmap") then return nil end
	local r = self.tvb(self.pos, 20)
	local item = (tree or self.tree):add(f.pe_bitmap, r)
	if label then item:prepend_text(label .. " ") end
	local pes, n = {}, 0
	for i = 0, 159 do
		local byte = r(math.floor(i / 8), 1):uint()
		if band(byte, bit32.lshift(1, i % 8)) ~= 0 then
			n = n + 1
			if #pes < 64 then pes[#pes + 1] = tostring(i) end
		end
	end
	item:add(f.pe_count, r, n):set_generated()
	local list = table.concat(pes, ",")
	if n > #pes then list = list .. ",..." end
	item:add(f.pe_list, r, list):set_generated()
	item:append_text(string.format(" (%d PEs)", n))
	self.pos = self.pos + 20
	return n
end
function Rd:finish()
	if not self.bad and self:left() > 0 then
		self:fail(string.format("%d bytes after the last field", self:left()))
	end
end
function Rd:empty()
	self:finish()
end

local function popcount8(b)
	local n = 0
	while b ~= 0 do
		n = n + band(b, 1)
		b = rshift(b, 1)
	end
	return n
end

---------------------------------------------------------------------------------------------
-- Bodies (section 4). Each takes (rd, ctx) where ctx has type, reply, pinfo, info (a table
-- of strings appended to the Info column).
---------------------------------------------------------------------------------------------
local body = {}

local function b_identity(rd, c)
	local board = rd:add(f.id_board, 2)
	local st = rd:add(f.id_state, 1)
	rd:add(f.id_eth_chip, 1)
	rd:add(f.id_serial, 4)
	local chips = rd:add(f.id_chips, 2)
	rd:add(f.id_pes, 2)
	local v = rd:str32()
	if chips then
		c.info[#c.info + 1] = string.format("board %d, %s, %d chips, %s", board,
			board_state_names[st] or "?", chips, v or "")
	end
	rd:finish()
end

local function b_board_status(rd, c)
	local st = rd:add(f.bs_state, 1)
	local chips = rd:add(f.bs_chips, 1)
	rd:rsvd(2)
	rd:add(f.bs_boot_us, 4)
	if rd:need(8, "chips_alive") then
		local r = rd.tvb(rd.pos, 8)
		local item = rd.tree:add_le(f.bs_alive, r)
		local n = 0
		for i = 0, 7 do n = n + popcount8(r(i, 1):uint()) end
		item:add(f.bs_alive_n, r, n):set_generated()
		rd.pos = rd.pos + 8
		c.info[#c.info + 1] = string.format("%s, %d/%d chips alive", board_state_names[st] or "?",
			n, chips or 0)
	end
	rd:finish()
end

local function empty() return function(rd) rd:empty() end end

body[0x01] = { req = b_identity }
body[0x02] = { req = empty(), rep = b_identity }
body[0x03] = { req = function(rd, c)
	local len = rd:add(f.boot_image_len, 4)
	rd:add(f.boot_image_crc, 4)
	local bs = rd:add(f.boot_block_size, 2)
	rd:rsvd(2)
	rd:finish()
	if bs then c.info[#c.info + 1] = string.format("%d bytes in blocks of %d", len, bs) end
end, rep = empty() }
body[0x04] = { req = function(rd, c)
	local blk = rd:add(f.boot_block, 4)
	local _, n = rd:rest(f.data)
	if blk then c.info[#c.info + 1] = string.format("block %d, %d bytes", blk, n) end
	if n == 0 then rd:fail("BOOT_DATA without image bytes") end
end, rep = empty() }
body[0x05] = { req = empty(), rep = b_board_status }
body[0x06] = { req = empty(), rep = b_board_status }
body[0x07] = { req = function(rd, c)
	local op = rd:add(f.ls_op, 1)
	rd:add(f.ls_flags, 1)
	rd:rsvd(2)
	rd:add(f.ls_ttl, 4)
	rd:add(f.ls_token, 8)
	local who = rd:str32()
	rd:finish()
	if op then c.info[#c.info + 1] = ({ [0] = "status", [1] = "acquire", [2] = "release" })[op] or "?" end
	if who and who ~= "" then c.info[#c.info + 1] = who end
end, rep = function(rd, c)
	local held = rd:add(f.ls_held, 1)
	rd:add(f.ls_mine, 1)
	rd:rsvd(2)
	local left = rd:add(f.ls_remaining, 4)
	rd:add(f.ls_refused, 4)
	rd:add(f.ls_forced, 4)
	local who = rd:str32()
	rd:finish()
	if held == 1 then
		c.info[#c.info + 1] = string.format("held by %s, %d ms left", who or "?", left or 0)
	elseif held == 0 then
		c.info[#c.info + 1] = "free"
	end
end }
body[0x08] = { req = function(rd, c)
	local op = rd:add(f.key_op, 1)
	rd:add(f.key_role, 1)
	rd:rsvd(2)
	local id = rd:add(f.key_id, 4)
	rd:bytes(f.key_wrapped, 32)
	rd:finish()
	if op then c.info[#c.info + 1] = string.format("%s %d", ({ [0] = "list", [1] = "add", [2] = "revoke" })[op] or "?", id or 0) end
end, rep = function(rd, c)
	for _ = 1, 6 do rd:add(f.key_counter, 4) end
	local k = rd:add(f.key_n, 4)
	for _ = 1, (k or 0) do
		rd:add(f.key_id, 4)
		rd:add(f.key_role, 1)
		rd:rsvd(3)
	end
	rd:finish()
	c.info[#c.info + 1] = string.format("%d keys", k or 0)
end }
body[0x10] = { req = empty(), rep = function(rd, c)
	local chip = rd:add(f.ci_chip, 2)
	local pes = rd:add(f.ci_pes, 1)
	rd:add(f.ci_links, 1)
	local alive = rd:bitmap(nil, "PEs alive:")
	rd:add(f.ci_sram, 4)
	rd:add(f.ci_router, 4)
	rd:add(f.ci_dram, 8)
	rd:str32()
	rd:finish()
	if alive then c.info[#c.info + 1] = string.format("chip %d, %d/%d PEs alive", chip, alive, pes) end
end }
body[0x11] = { req = function(rd, c)
	rd:add(f.mem_space, 1)
	rd:rsvd(3)
	local a = rd:add(f.mem_addr, 4)
	local n = rd:add(f.mem_len, 2)
	rd:rsvd(2)
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("0x%x, %d bytes", a, n) end
end, rep = function(rd, c)
	local _, n = rd:rest(f.data)
	c.info[#c.info + 1] = string.format("%d bytes", n)
end }
body[0x12] = { req = function(rd, c)
	rd:add(f.mem_space, 1)
	rd:rsvd(3)
	local a = rd:add(f.mem_addr, 4)
	local _, n = rd:rest(f.data)
	if a then c.info[#c.info + 1] = string.format("0x%x, %d bytes", a, n) end
	if n == 0 then rd:fail("MEM_WRITE without data") end
end, rep = empty() }
body[0x13] = { req = empty(), rep = function(rd, c)
	local n = rd:add(f.cs_n, 1)
	if n and rd:need(n, "PE states") then
		local counts = {}
		for i = 0, n - 1 do
			local v, item = rd:add(f.cs_state, 1)
			item:prepend_text(string.format("PE %d: ", i))
			counts[v] = (counts[v] or 0) + 1
		end
		local parts = {}
		for k = 0, 4 do
			if counts[k] then parts[#parts + 1] = string.format("%d %s", counts[k], core_state_names[k]) end
		end
		c.info[#c.info + 1] = table.concat(parts, ", ")
	end
	rd:finish()
end }
body[0x14] = { req = function(rd, c)
	local o = rd:add(f.io_offset, 4)
	local m = rd:add(f.io_max_len, 2)
	rd:rsvd(2)
	rd:finish()
	if m then c.info[#c.info + 1] = string.format("from %d, at most %d", o, m) end
end, rep = function(rd, c)
	local t = rd:add(f.io_total, 4)
	local o = rd:add(f.io_offset, 4)
	local _, n = rd:rest(f.io_text)
	if o then c.info[#c.info + 1] = string.format("%d bytes from %d of %d", n, o, t) end
end }
body[0x15] = { req = function(rd, c)
	local s = rd:add(f.sig_signal, 1)
	rd:rsvd(3)
	local n = rd:bitmap()
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("%s %d PEs", signal_names[s] or "?", n) end
end, rep = function(rd, c)
	local n = rd:add(f.sig_count, 2)
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("%d PEs changed", n) end
end }
body[0x20] = { req = function(rd, c)
	local a = rd:add(f.rt_addr, 4)
	local n = rd:add(f.rt_n, 4)
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("%d entries at 0x%x", n, a) end
end, rep = empty() }
body[0x21] = { req = function(rd, c)
	local a = rd:add(f.app_blob_addr, 4)
	local n = rd:add(f.app_blob_len, 4)
	rd:add(f.app_spk_addr, 4)
	rd:add(f.app_spk_size, 4)
	rd:add(f.app_v_addr, 4)
	rd:add(f.app_v_size, 4)
	if rd:left() == 4 then rd:add(f.app_rec_hdr, 4) end -- absent from an earlier s2
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("blob 0x%x, %d bytes", a, n) end
end, rep = empty() }
body[0x22] = { req = function(rd, c)
	local n = rd:add(f.app_n_steps, 4)
	if rd:need(4, "flags") then
		local r = rd.tvb(rd.pos, 4)
		local item = rd.tree:add_le(f.app_flags, r)
		item:add_le(f.app_realtime, r)
		rd.pos = rd.pos + 4
	end
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("%d steps", n) end
end, rep = empty() }
body[0x23] = { req = empty(), rep = function(rd, c)
	local st = rd:add(f.app_state, 1)
	rd:rsvd(3)
	local pes = rd:add(f.app_pes, 4)
	local done = rd:add(f.app_steps_done, 4)
	local n = rd:add(f.app_n_steps, 4)
	rd:add(f.app_pending, 4)
	rd:adds(f.app_load_error, 4)
	rd:add(f.app_load_chip, 2)
	rd:add(f.app_load_pe, 2)
	for _, k in ipairs(app_counters) do rd:add(f["app_" .. k], 8) end
	rd:finish()
	if n then
		c.info[#c.info + 1] = string.format("%s, %d PEs, step %d/%d", app_state_names[st] or "?",
			pes, done, n)
	end
end }
body[0x24] = { req = empty(), rep = empty() }
body[0x25] = { req = function(rd, c)
	local a = rd:add(f.app_blob_addr, 4)
	local n = rd:add(f.app_blob_len, 4)
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("new blob 0x%x, %d bytes", a, n) end
end, rep = empty() }
body[0x30] = { req = empty(), rep = function(rd, c)
	local b = rd:add(f.bmp_board, 2)
	local p = rd:add(f.bmp_power, 1)
	rd:rsvd(1)
	rd:add(f.bmp_serial, 4)
	rd:str32()
	rd:finish()
	if p then c.info[#c.info + 1] = string.format("board %d, power %s", b, p == 1 and "on" or "off") end
end }
body[0x31] = { req = function(rd, c)
	local a = rd:add(f.bmp_action, 1)
	rd:finish()
	if a then c.info[#c.info + 1] = power_names[a] or "?" end
end, rep = empty() }
body[0x32] = { req = empty(), rep = function(rd, c)
	rd:add(f.fl_board_type, 2)
	rd:add(f.fl_booted_slot, 1)
	rd:rsvd(1)
	rd:add(f.fl_slot_size, 4)
	for s = 0, 1 do
		if rd:need(48, "slot") then
			local t = rd.tree:add(s2, rd.tvb(rd.pos, 48), string.format("Slot %d", s))
			local st = rd:add(f.fl_state, 1, t)
			rd:rsvd(3, t)
			rd:add(f.fl_seq, 4, t)
			rd:add(f.fl_length, 4, t)
			rd:add(f.fl_crc, 4, t)
			local v = rd:str32(t)
			t:append_text(string.format(": %s %s", slot_state_names[st] or "?", v or ""))
		end
	end
	rd:finish()
end }
body[0x33] = { req = function(rd, c)
	local s = rd:add(f.fl_slot, 1)
	rd:rsvd(3)
	local n = rd:add(f.fl_length, 4)
	rd:add(f.fl_crc, 4)
	rd:str32()
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("slot %d, %d bytes", s, n) end
end, rep = empty() }
body[0x34] = { req = function(rd, c)
	local s = rd:add(f.fl_slot, 1)
	if rd:need(1, "flags") then
		local r = rd.tvb(rd.pos, 1)
		rd.tree:add(f.fl_flags, r):add(f.fl_zlib, r)
		rd.pos = rd.pos + 1
	end
	rd:add(f.fl_raw_len, 2)
	local o = rd:add(f.fl_offset, 4)
	rd:add(f.fl_raw_crc, 4)
	local _, n = rd:rest(f.data)
	if o then c.info[#c.info + 1] = string.format("slot %d, offset %d, %d bytes", s, o, n) end
end, rep = empty() }
body[0x35] = { req = function(rd, c)
	local s = rd:add(f.fl_slot, 1)
	rd:rsvd(1)
	local n = rd:add(f.fl_len, 2)
	local o = rd:add(f.fl_offset, 4)
	rd:finish()
	if o then c.info[#c.info + 1] = string.format("slot %d, %d bytes at %d", s, n, o) end
end, rep = function(rd, c)
	local _, n = rd:rest(f.data)
	c.info[#c.info + 1] = string.format("%d bytes", n)
end }
body[0x36] = { req = function(rd, c)
	local s = rd:add(f.fl_slot, 1)
	rd:rsvd(3)
	local n = rd:add(f.fl_length, 4)
	rd:add(f.fl_crc, 4)
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("slot %d, %d bytes", s, n) end
end, rep = empty() }

local function b_sack(rd, c)
	local region = rd:add(f.bk_region, 4)
	local cum = rd:add(f.bk_cum, 4)
	rd:add(f.bk_bad, 4)
	if rd:need(2, "flags") then
		local r = rd.tvb(rd.pos, 2)
		rd.tree:add_le(f.bk_flags16, r):add_le(f.bk_timeout, r)
		rd.pos = rd.pos + 2
	end
	local m = rd:add(f.bk_bm_len, 2)
	if m then
		if m > 128 then rd:fail(string.format("bm_len %d > 128", m)) end
		local r, item = rd:bytes(f.bk_bitmap, m)
		if r then
			local n = 0
			for i = 0, m - 1 do n = n + popcount8(r(i, 1):uint()) end
			item:add(f.bk_sacked, r, n):set_generated()
		end
	end
	rd:finish()
	if cum then c.info[#c.info + 1] = string.format("region %d, cum %d", region, cum) end
end
local function b_region(rd, c)
	local r = rd:add(f.bk_region, 4)
	rd:finish()
	if r then c.info[#c.info + 1] = string.format("region %d", r) end
end

body[0x40] = { req = function(rd, c)
	local region = rd:add(f.bk_region, 4)
	rd:add(f.bk_space, 1)
	rd:rsvd(3)
	local a = rd:add(f.bk_addr, 4)
	local n = rd:add(f.bk_len, 4)
	rd:add(f.bk_crc, 4)
	local bs = rd:add(f.bk_block_size, 2)
	rd:rsvd(2)
	rd:finish()
	if bs then
		c.info[#c.info + 1] = string.format("region %d, 0x%x, %d bytes, blocks of %d", region, a, n, bs)
	end
end, rep = empty() }
body[0x41] = { any = function(rd, c)
	local region = rd:add(f.bk_region, 4)
	local blk = rd:add(f.bk_block, 4)
	local raw = rd:add(f.bk_raw_len, 2)
	local zl = 0
	if rd:need(1, "flags") then
		local r = rd.tvb(rd.pos, 1)
		rd.tree:add(f.bk_flags8, r):add(f.bk_zlib, r)
		zl = band(r:uint(), 1)
		rd.pos = rd.pos + 1
	end
	rd:rsvd(1)
	rd:add(f.bk_raw_crc, 4)
	local _, n = rd:rest(f.data)
	if blk then
		c.info[#c.info + 1] = string.format("region %d, block %d, %d bytes%s", region, blk, raw,
			zl == 1 and string.format(" (zlib %d)", n) or "")
	end
	if n == 0 then rd:fail("BULK_DATA without data") end
end }
body[0x42] = { any = b_sack }
body[0x43] = { req = b_region, rep = b_sack }
-- BULK_END: with the region's hash when the region was opened under authentication (2.3)
body[0x44] = { req = function(rd, c)
	local r = rd:add(f.bk_region, 4)
	if rd:left() == 32 then rd:bytes(f.bk_hash, 32) end
	rd:finish()
	if r then c.info[#c.info + 1] = string.format("region %d", r) end
end, rep = empty() }
body[0x45] = { req = function(rd, c)
	local region = rd:add(f.bk_region, 4)
	rd:add(f.bk_space, 1)
	if rd:need(1, "flags") then
		local r = rd.tvb(rd.pos, 1)
		rd.tree:add(f.bk_flags8, r):add(f.bk_zlib, r)
		rd.pos = rd.pos + 1
	end
	rd:rsvd(2)
	local a = rd:add(f.bk_addr, 4)
	local n = rd:add(f.bk_len, 4)
	rd:add(f.bk_block_size, 2)
	rd:add(f.bk_window, 2)
	rd:finish()
	if n then c.info[#c.info + 1] = string.format("region %d, 0x%x, %d bytes", region, a, n) end
end, rep = function(rd, c)
	local region = rd:add(f.bk_region, 4)
	local n = rd:add(f.bk_len, 4)
	rd:add(f.bk_crc, 4)
	local nb = rd:add(f.bk_n_blocks, 4)
	if rd:left() == 32 then rd:bytes(f.bk_hash, 32) end
	rd:finish()
	if nb then c.info[#c.info + 1] = string.format("region %d, %d bytes, %d blocks", region, n, nb) end
end }

body[0x50] = { req = function(rd, c)
	local id = rd:add(f.st_id, 4)
	local fl = nil
	if rd:need(4, "flags") then
		local r = rd.tvb(rd.pos, 4)
		local item = rd.tree:add_le(f.st_flags, r)
		item:add_le(f.st_f_spikes, r)
		item:add_le(f.st_f_energy, r)
		fl = r:le_uint()
		rd.pos = rd.pos + 4
	end
	rd:add(f.st_period, 4)
	if rd:need(4, "addr") then
		rd.tree:add(f.st_addr, rd.tvb(rd.pos, 4)) -- network byte order
		rd.pos = rd.pos + 4
	end
	rd:add(f.st_port, 2)
	local n = rd:add(f.st_n_chips, 2)
	local total = 0
	if n then
		if n > 70 then rd:fail(string.format("n_chips %d > 70", n)) end
		if rd:need(20 * n, "PE bitmaps") then
			local bt = rd.tree:add(s2, rd.tvb(rd.pos, 20 * n), "PE bitmaps")
			for chip = 0, n - 1 do
				local k = rd:bitmap(bt, string.format("Chip %d", chip))
				total = total + (k or 0)
			end
			bt:append_text(string.format(": %d chips, %d PEs", n, total))
			bt:add(f.st_total_pes, rd.tvb(rd.pos - 20 * n, 20 * n), total):set_generated()
		end
	end
	rd:finish()
	if id then
		c.info[#c.info + 1] = string.format("id %08x, %s%s, %d chips, %d PEs", id,
			band(fl or 0, 1) ~= 0 and "spikes" or "",
			band(fl or 0, 2) ~= 0 and "+energy" or "", n or 0, total)
	end
end, rep = empty() }
body[0x51] = { req = function(rd, c)
	local id = rd:add(f.st_id, 4)
	rd:finish()
	if id then c.info[#c.info + 1] = string.format("id %08x", id) end
end, rep = empty() }

local function rec_spikes(rd, t, len)
	if len < 10 or (len - 8) % 2 ~= 0 then
		return rd:fail(string.format("spike record of %d bytes (8 + 2n, n >= 1)", len))
	end
	local step = rd:add(f.sp_step, 4, t)
	local chip = rd:add(f.sp_chip, 2, t)
	local pe = rd:add(f.sp_pe, 1, t)
	rd:rsvd(1, t)
	local n = (len - 8) / 2
	t:add(f.sp_n, rd.tvb(rd.pos, len - 8), n):set_generated()
	local ids = {}
	for _ = 1, n do
		local v = rd:add(f.sp_neuron, 2, t)
		if #ids < 16 then ids[#ids + 1] = tostring(v) end
	end
	t:append_text(string.format(": spikes, step %d, chip %d, PE %d, %d neurons (%s%s)", step, chip,
		pe, n, table.concat(ids, ","), n > 16 and ",..." or ""))
	return n
end
local function rec_energy(rd, t, len)
	if len ~= 80 then return rd:fail(string.format("energy record of %d bytes, not 80", len)) end
	local step = rd:add(f.en_step, 4, t)
	local chip = rd:add(f.en_chip, 2, t)
	rd:rsvd(2, t)
	rd:add(f.en_time, 8, t)
	for _, k in ipairs(energy_counters) do rd:add(f["en_" .. k], 8, t) end
	t:append_text(string.format(": energy, step %d, chip %d", step, chip))
end
local function rec_event(rd, t, len)
	if len ~= 16 then return rd:fail(string.format("event record of %d bytes, not 16", len)) end
	local step = rd:add(f.ev_step, 4, t)
	local ev = rd:add(f.ev_event, 2, t)
	rd:rsvd(2, t)
	rd:add(f.ev_time, 8, t)
	t:append_text(string.format(": event %s, step %d", run_event_names[ev] or "?", step))
end

body[0x52] = { any = function(rd, c)
	local id = rd:add(f.st_id, 4)
	rd:add(f.st_dropped, 4)
	rd:add(f.st_first_us, 8)
	local nrec, nspk, kinds = 0, 0, {}
	while not rd.bad and rd:left() > 0 do
		if not rd:need(4, "record head") then break end
		local len = rd.tvb(rd.pos + 2, 2):le_uint()
		local avail = math.min(4 + len, rd:left())
		local t = rd.tree:add(f.rec, rd.tvb(rd.pos, avail))
		t:set_text(string.format("Record %d", nrec))
		local kind = rd:add(f.rec_kind, 1, t)
		rd:rsvd(1, t)
		rd:add(f.rec_len, 2, t)
		if not rd:need(len, "record body") then break end
		local sub = rd_new(rd.tvb, rd.pos, len, t, rd.pinfo)
		if kind == 1 then
			nspk = nspk + (rec_spikes(sub, t, len) or 0)
		elseif kind == 2 then
			rec_energy(sub, t, len)
		elseif kind == 3 then
			rec_event(sub, t, len)
		else
			sub:fail(string.format("unknown record kind %d", kind))
		end
		sub:finish()
		if sub.bad then rd.bad = true end
		rd.pos = rd.pos + len
		nrec = nrec + 1
		kinds[kind] = (kinds[kind] or 0) + 1
	end
	rd.tree:add(f.st_n_recs, rd.tvb(0, 0), nrec):set_generated()
	if id then
		c.info[#c.info + 1] = string.format("id %08x, %d records: %d spikes, %d energy, %d events",
			id, nrec, nspk, kinds[2] or 0, kinds[3] or 0)
	end
end }
body[0x53] = { req = function(rd, c)
	local step = rd:add(f.inj_step, 4)
	local n = rd:add(f.inj_n, 2)
	rd:rsvd(2)
	if n then
		if n < 1 or n > 237 then rd:fail(string.format("n %d outside 1..237", n)) end
		if rd:need(6 * n, "entries") then
			for i = 0, n - 1 do
				local t = rd.tree:add(s2, rd.tvb(rd.pos, 6), string.format("Entry %d", i))
				local ch = rd:add(f.inj_chip, 2, t)
				local ne = rd:add(f.inj_neuron, 2, t)
				local pe = rd:add(f.inj_pe, 1, t)
				rd:rsvd(1, t)
				t:append_text(string.format(": chip %d, PE %d, neuron %d", ch, pe, ne))
			end
		end
	end
	rd:finish()
	if n then
		c.info[#c.info + 1] = string.format("%d spikes at step %s", n,
			step == 0xFFFFFFFF and "next" or tostring(step))
	end
end, rep = function(rd, c)
	local a = rd:add(f.inj_accepted, 2)
	local l = rd:add(f.inj_late, 2)
	rd:finish()
	if l then c.info[#c.info + 1] = string.format("%d accepted, %d late", a, l) end
end }

---------------------------------------------------------------------------------------------
-- Request/response matching: key = conversation (both endpoints) + type + seq.
---------------------------------------------------------------------------------------------
local requests = {}   -- key -> frame number of the (last) request
local responses = {}  -- request frame -> response frame
local reply_of = {}   -- response frame -> request frame

function s2.init()
	requests, responses, reply_of = {}, {}, {}
end

local function conv_key(pinfo, reply, t, seq)
	local a = tostring(pinfo.src) .. ":" .. tostring(pinfo.src_port)
	local b = tostring(pinfo.dst) .. ":" .. tostring(pinfo.dst_port)
	if reply then a, b = b, a end
	return a .. ">" .. b .. "/" .. t .. "/" .. seq
end

---------------------------------------------------------------------------------------------
-- Main dissector
---------------------------------------------------------------------------------------------
local function looks_like_s2(tvb)
	if tvb:len() < 20 or tvb:reported_len() < HDR_LEN then return false end
	if tvb(0, 4):le_uint() ~= MAGIC then return false end
	if tvb(4, 1):uint() ~= 1 then return false end
	local plen = tvb(18, 2):le_uint()
	return plen <= MAX_PAYLOAD and HDR_LEN + plen == tvb:reported_len()
end

function s2.dissector(tvb, pinfo, tree)
	local n = tvb:len()
	if n < 4 or tvb(0, 4):le_uint() ~= MAGIC then return 0 end
	pinfo.cols.protocol = "S2"
	local root = tree:add(s2, tvb(), "SpiNNaker2 s2 protocol")
	if n < HDR_LEN then
		root:add_proto_expert_info(ef.header, string.format("%d bytes: shorter than the 40-byte header", n))
		pinfo.cols.info = "s2: short packet"
		return n
	end

	local h = root:add(s2, tvb(0, HDR_LEN), "Header")
	h:add_le(f.magic, tvb(0, 4))
	local ver = tvb(4, 1):uint()
	local vi = h:add(f.version, tvb(4, 1))
	if ver ~= 1 then vi:add_proto_expert_info(ef.header, "unsupported version") end
	local t = tvb(5, 1):uint()
	h:add(f.type, tvb(5, 1))
	local flags = tvb(6, 2):le_uint()
	local fi = h:add_le(f.flags, tvb(6, 2))
	fi:add_le(f.flags_reply, tvb(6, 2))
	fi:add_le(f.flags_error, tvb(6, 2))
	fi:add_le(f.flags_auth, tvb(6, 2))
	fi:add_le(f.flags_ackreq, tvb(6, 2))
	local fr = fi:add_le(f.flags_rsvd, tvb(6, 2))
	if band(flags, 0xFFF0) ~= 0 then fr:add_proto_expert_info(ef.reserved) end
	local reply = band(flags, 1) ~= 0
	local err = band(flags, 2) ~= 0
	local seq = tvb(8, 4):le_uint()
	h:add_le(f.seq, tvb(8, 4))
	local board = tvb(12, 2):le_uint()
	local bi = h:add_le(f.board, tvb(12, 2))
	if board == 0xFFFF then bi:append_text(" (the receiving board)") end
	local chip = tvb(14, 2):le_uint()
	local ci = h:add_le(f.chip, tvb(14, 2))
	if chip == 0xFFFF then ci:append_text(" (Ethernet chip)") end
	local pe = tvb(16, 1):uint()
	local pi = h:add(f.pe, tvb(16, 1))
	if pe == 0xFF then pi:append_text(" (monitor)") end
	local ri = h:add(f.hdr_rsvd, tvb(17, 1))
	if tvb(17, 1):uint() ~= 0 then ri:add_proto_expert_info(ef.reserved) end
	local plen = tvb(18, 2):le_uint()
	local li = h:add_le(f.payload_len, tvb(18, 2))
	local crc = tvb(20, 4):le_uint()
	local crci = h:add_le(f.crc, tvb(20, 4))
	local auth = h:add(f.auth_tag, tvb(24, 16))
	if band(flags, 4) == 0 then
		for i = 24, 39 do
			if tvb(i, 1):uint() ~= 0 then
				auth:add_proto_expert_info(ef.reserved, "auth_tag not zero without S2_F_AUTH")
				break
			end
		end
	end

	local tname = type_names[t] or string.format("type 0x%02x", t)
	local dir = reply and (err and "error reply" or "reply") or "request"
	if t == 0x41 or t == 0x42 or t == 0x52 or t == 0x01 then dir = reply and "reply" or "" end
	pinfo.cols.info = string.format("%s%s seq=%d %s/%s/%s", tname, dir ~= "" and " " .. dir or "",
		seq, board == 0xFFFF and "*" or tostring(board), chip == 0xFFFF and "eth" or tostring(chip),
		pe == 0xFF and "mon" or tostring(pe))
	root:append_text(string.format(", %s%s, seq %d", tname, dir ~= "" and " " .. dir or "", seq))

	-- length consistency (section 2.4 step 5)
	local avail = n - HDR_LEN
	local blen = plen
	if plen > MAX_PAYLOAD then
		li:add_proto_expert_info(ef.header, "payload_len > 1432")
	end
	if HDR_LEN + plen ~= tvb:reported_len() then
		li:add_proto_expert_info(ef.header, string.format("payload_len %d but the datagram has %d payload bytes",
			plen, tvb:reported_len() - HDR_LEN))
	end
	if blen > avail then blen = avail end
	-- authenticated packets end with a 16-byte trailer (section 2.3), not part of the body
	if band(flags, 4) ~= 0 and blen >= 16 then
		blen = blen - 16
		local tr = root:add(f.trailer, tvb(HDR_LEN + blen, 16))
		tr:add_le(f.tr_key, tvb(HDR_LEN + blen, 4))
		tr:add_le(f.tr_counter, tvb(HDR_LEN + blen + 4, 4))
		tr:add_le(f.tr_session, tvb(HDR_LEN + blen + 8, 8))
	end

	-- CRC (section 3)
	if s2.prefs.check_crc and n == tvb:reported_len() then
		local want = packet_crc(tvb)
		if want == crc then
			h:add(f.crc_status, tvb(20, 4), "good"):set_generated()
		else
			h:add(f.crc_status, tvb(20, 4), "bad"):set_generated()
			crci:add_proto_expert_info(ef.crc, string.format("CRC-32 0x%08x, computed 0x%08x", crc, want))
		end
	end

	-- request / response tracking
	if t ~= 0x41 and t ~= 0x42 and t ~= 0x52 and t ~= 0x01 then
		local key = conv_key(pinfo, reply, t, seq)
		if not pinfo.visited then
			if reply then
				local rq = requests[key]
				if rq and not reply_of[pinfo.number] then
					reply_of[pinfo.number] = rq
					if not responses[rq] then responses[rq] = pinfo.number end
				end
			else
				requests[key] = pinfo.number
			end
		end
		if reply then
			if reply_of[pinfo.number] then
				root:add(f.response_to, tvb(8, 4), reply_of[pinfo.number]):set_generated()
			end
		elseif responses[pinfo.number] then
			root:add(f.response_in, tvb(8, 4), responses[pinfo.number]):set_generated()
		end
	end

	-- body
	local btree = root:add(s2, tvb(HDR_LEN, blen), string.format("%s %s (%d bytes)", tname,
		dir ~= "" and dir or "message", plen))
	local rd = rd_new(tvb, HDR_LEN, blen, btree, pinfo)
	local c = { type = t, reply = reply, info = {}, pinfo = pinfo }
	if reply and err then
		local st = rd:adds(f.status, 4)
		rd:finish()
		if st then
			btree:add_proto_expert_info(ef.errreply, string.format("%s: %s", tname, status_names[st] or tostring(st)))
			if st >= 0 then rd:fail("error status not negative") end
			c.info[#c.info + 1] = status_names[st] or tostring(st)
		end
	else
		local d = body[t]
		if not d then
			btree:add_proto_expert_info(ef.unknown)
			rd:rest(f.payload)
		else
			local fn = d.any or (reply and d.rep or d.req)
			if fn then
				fn(rd, c)
			else
				rd:fail(string.format("%s is never a %s", tname, reply and "reply" or "request"))
			end
		end
	end
	if #c.info > 0 then
		pinfo.cols.info:append(": " .. table.concat(c.info, "; "))
		btree:append_text(": " .. table.concat(c.info, "; "))
	end
	return n
end

---------------------------------------------------------------------------------------------
-- Registration
---------------------------------------------------------------------------------------------
local function heuristic(tvb, pinfo, tree)
	if not s2.prefs.heuristic then return false end
	if not looks_like_s2(tvb) then return false end
	s2.dissector(tvb, pinfo, tree)
	return true
end
s2:register_heuristic("udp", heuristic)

local udp_table = DissectorTable.get("udp.port")
local current_ports = ""
function s2.prefs_changed()
	local p = tostring(s2.prefs.ports or "")
	if p == current_ports then return end
	if current_ports ~= "" then udp_table:remove(current_ports, s2) end
	if p ~= "" then udp_table:add(p, s2) end
	current_ports = p
end
