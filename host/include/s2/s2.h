/**
 * @file s2.h
 * @brief libs2, the s2 host library: umbrella header.
 *
 * libs2 talks to SpiNNaker2 boards (and to s2emu, the emulated machine) over UDP: the
 * windowed transport (transport.h), board operations (board.h), flash (flash.h), bulk
 * transfers (bulk.h), loading and running applications (app.h), live streams of spikes and
 * energy counters with spike injection (stream.h), and the energy model (energy.h); and the
 * wire core shared with the firmware (error codes, CRC-32, packet header, messages).
 * The high-level API on top (docs/api.md): sessions on a machine's boards (session.h),
 * compiling a network in memory (compile.h, with the mapping library: machine.h,
 * network.h, mapper.h, image.h), load plans (plan.h), deploying and running with live
 * callbacks (run.h), run results with the .s2res format (results.h), a run's energy record
 * (energy_record.h) and its report with JSON, text and OpenMetrics renderers
 * (energy_report.h), the fan-out server that hands a live stream to local applications
 * (serve.h), a stream's energy for Prometheus (metrics.h), replaying captured frames
 * (replay.h), listening to a network that runs (subscribe.h), and booting boards and seeing
 * what is alive on them (health.h).
 * Link with pkg-config (`pkg-config --cflags --libs s2`) or CMake (`find_package(s2)`,
 * target `s2::s2`, or `s2::s2_static`).
 */
#ifndef S2_S2_H
#define S2_S2_H

#include "s2/app.h"
#include "s2/board.h"
#include "s2/bulk.h"
#include "s2/compile.h"
#include "s2/crc32.h"
#include "s2/energy.h"
#include "s2/energy_record.h"
#include "s2/energy_report.h"
#include "s2/error.h"
#include "s2/flash.h"
#include "s2/health.h"
#include "s2/image.h"
#include "s2/live.h"
#include "s2/machine.h"
#include "s2/mapper.h"
#include "s2/metrics.h"
#include "s2/msg.h"
#include "s2/netbuild.h"
#include "s2/network.h"
#include "s2/packet.h"
#include "s2/plan.h"
#include "s2/replay.h"
#include "s2/results.h"
#include "s2/run.h"
#include "s2/serve.h"
#include "s2/session.h"
#include "s2/stream.h"
#include "s2/subscribe.h"
#include "s2/transport.h"
#include "s2/version.h"

#endif
