/*
 * s2ctl: the command line of s2. One verb per job (docs/cli.md); every verb takes --help
 * and --json. The verb table below is the one source of the usage texts that --help prints
 * and the user guide documents.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "s2/version.h"

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

static const struct verb verbs[] = {
        {"discover", verb_discover, "find boards on the network",
         "usage: s2ctl discover [--listen ADDR:PORT] [--wait SECONDS] [--machine FILE] [--json]\n"
         "Listen for the announcements of unbooted boards for --wait seconds (default 2) on\n"
         "--listen (default 127.0.0.1:17893), and ask every board of --machine (if given)\n"
         "who it is. Prints one line per board found.\n"},
        {"boot", verb_boot, "boot boards and report what is alive",
         "usage: s2ctl boot [--machine FILE] [--boards LIST] [--image FILE]\n"
         "                  [--write-machine FILE] [--json] [--quiet]\n"
         "Send the monitor firmware (default: $S2_FIRMWARE, else the cm4f build's\n"
         "s2_monitor.bin, else PREFIX/share/s2/s2_monitor.bin of an installed s2ctl) to every\n"
         "selected board in parallel, then survey every chip and report\n"
         "chips, PEs and links alive against the machine description. --write-machine writes\n"
         "the description with what was found dead marked dead, for the mapper.\n"},
        {"info", verb_info, "show boards, chips and PEs of a booted machine",
         "usage: s2ctl info [--machine FILE] [--boards LIST] [--chips] [--json]\n"
         "For every selected board: state, chips alive, PEs per chip; --chips lists each chip.\n"},
        {"ps", verb_ps, "show the state of every PE of a chip",
         "usage: s2ctl ps [--machine FILE] --board B [--chip C] [--json]\n"
         "States: dead, idle, running, stopped, monitor. Default chip: the Ethernet chip.\n"},
        {"iobuf", verb_iobuf, "print a PE's or a monitor's log buffer",
         "usage: s2ctl iobuf [--machine FILE] --board B [--chip C] [--pe P|monitor] [--json]\n"},
        {"mem", verb_mem, "read or write PE SRAM and chip DRAM",
         "usage: s2ctl mem read  [--machine FILE] --board B [--chip C] [--pe P] [--sram] ADDR LEN\n"
         "                       [-o FILE] [--bulk]\n"
         "       s2ctl mem write [--machine FILE] --board B [--chip C] [--pe P] [--sram] ADDR\n"
         "                       (--file FILE | --hex HEXBYTES) [--bulk]\n"
         "DRAM of the chip by default; --sram addresses the SRAM of PE --pe. A read without -o\n"
         "prints a hex dump (--json: hex string). Every byte is checked end to end (CRC per\n"
         "packet); a write can be checked with a read. --bulk streams the data (protocol\n"
         "4.16: blocks with selective acknowledgements, zlib, CRC per block and region).\n"},
        {"signal", verb_signal, "start, stop or reset PEs",
         "usage: s2ctl signal start|stop|reset [--machine FILE] --board B [--chip C] --pes LIST\n"},
        {"power", verb_power, "power boards on or off through their board controllers",
         "usage: s2ctl power on|off|status [--machine FILE] [--boards LIST] [--json]\n"},
        {"reset", verb_reset, "reset boards (power off then on); they come back unbooted",
         "usage: s2ctl reset [--machine FILE] [--boards LIST] [--json]\n"},
        {"scrub", verb_scrub, "stop boards' PEs, zero their SRAM and DRAM on the board, verified",
         "usage: s2ctl scrub [--machine FILE] [--boards LIST] [--timeout S] [--force] [--json]\n"
         "Every chip's monitor stops its application PEs, zeroes their SRAM and the chip's\n"
         "DRAM and reads it all back (protocol 4.20), all chips at once; s2ctl waits at most\n"
         "--timeout s (default 600). Exit 0 only if every byte was zeroed and verified.\n"},
        {"flash", verb_flash, "write firmware to boards' flash, never leaving one unbootable",
         "usage: s2ctl flash IMAGE [--machine FILE] [--boards LIST] [--json]\n"
         "       s2ctl flash --status [--machine FILE] [--boards LIST] [--json]\n"
         "       s2ctl flash pack MONITOR.bin --version V [--extra FILE] [--board-type T]\n"
         "                        -o IMAGE\n"},
        {"deploy", verb_deploy, "load a compiled network onto the machine, ready to run",
         "usage: s2ctl deploy IMAGE [--duration MS] [--stall-timeout S] [--machine FILE]\n"
         "                    [--boards LIST] [--force] [--json]\n"
         "Boot what is not booted, load router tables and PE data, wait until every PE has\n"
         "expanded its synapses. Recordings are sized for --duration (default: the image's\n"
         "run length). The image's boards are leased while deploy works (--force takes them\n"
         "from another session, logged); a board with no PE done for --stall-timeout s\n"
         "(default 60) fails.\n"},
        {"run", verb_run, "deploy, run and collect the recordings of a compiled network",
         "usage: s2ctl run IMAGE [--duration MS] [--realtime] [--deployed] [-o RESULTS]\n"
         "                 [--energy RECORD [--energy-every STEPS]] [--stall-timeout S]\n"
         "                 [--part-ms MS] [--machine FILE] [--boards LIST] [--force] [--json]\n"
         "Deploy (unless --deployed: run what s2ctl deploy left, with the spikes injected\n"
         "meanwhile), start every board together, run, collect the recordings into RESULTS.\n"
         "A run longer than the PEs' recording regions hold runs in parts, each part's\n"
         "recordings read back before the next continues (--part-ms: parts of at most MS).\n"
         "--energy records the chips' activity counters and the phases for s2ctl energy.\n"
         "The image's boards are leased while run works; a board that stops answering, does\n"
         "not advance for --stall-timeout s (default 60) or leaves the run ends its part:\n"
         "the results are then written marked partial and the exit is non-zero.\n"},
        {"stream", verb_stream, "receive a running network's live spikes and energy counters",
         "usage: s2ctl stream IMAGE [--population LABEL]... [--energy-every STEPS]\n"
         "                    [--no-spikes] [--listen ADDR] [--serve unix:PATH|tcp:ADDR:PORT]\n"
         "                    [--client-queue BYTES] [--ready-file FILE] [--follow]\n"
         "                    [--max-seconds S] [--count-only] [--metrics tcp:ADDR:PORT]\n"
         "                    [--machine FILE] [--json]\n"
         "Subscribe to the boards holding IMAGE (deployed, or about to run) and print every\n"
         "spike of the chosen populations (default: all) as 'STEP POPULATION NEURON', energy\n"
         "counter samples of every chip every --energy-every steps and run events as '#'\n"
         "lines (--json: one JSON object per line), until every board has finished its run\n"
         "(--follow: until interrupted). --serve passes the stream to applications instead\n"
         "(length-framed protobuf, docs/stream.md). Lost, late, duplicated and malformed\n"
         "packets are counted and reported at the end. --metrics serves the energy counters\n"
         "and modelled joules at http://ADDR:PORT/metrics (OpenMetrics, docs/energy.md).\n"},
        {"inject", verb_inject, "make source neurons spike at a given step of a run",
         "usage: s2ctl inject IMAGE --population LABEL --neurons LIST [--step STEP]\n"
         "                    [--machine FILE] [--json]\n"
         "The neurons (of a Poisson or spike-array population) spike at STEP (default: the\n"
         "next step each board computes); a step already computed counts as late and spikes\n"
         "at the next one. All neurons are checked before any is sent.\n"},
        {"capture", verb_capture, "record the machine's UDP traffic to a pcap file",
         "usage: s2ctl capture -o FILE.pcap [--interface IFACE] [--duration S] [--packets N]\n"
         "                     [--ready-file FILE] [--machine FILE] [--json] [--quiet]\n"
         "Capture with libpcap every UDP datagram to or from the ports of the boards of\n"
         "--machine (Ethernet and board controller endpoints) on --interface (default: lo if\n"
         "every board is on 127.x, else any), until --duration seconds, --packets packets, or\n"
         "SIGINT/SIGTERM. The file is written atomically (FILE.pcap.tmp, then renamed; no file\n"
         "on failure); packets captured and dropped by the kernel are reported. Needs root\n"
         "or CAP_NET_RAW. --ready-file is written once the capture runs.\n"},
        {"key", verb_key, "machine and job keys: make, rotate, grant, revoke, list",
         "usage: s2ctl key init FILE [--id N] [--force]\n"
         "       s2ctl key rotate FILE [--machine FILE] [--boards LIST] [--id N]\n"
         "       s2ctl key grant JOBKEY --key MACHINEKEY [--machine FILE] [--boards LIST]\n"
         "                       [--id N] [--force]\n"
         "       s2ctl key revoke JOBKEY --key MACHINEKEY [--machine FILE] [--boards LIST]\n"
         "       s2ctl key list --key KEY [--machine FILE] [--boards LIST] [--json]\n"
         "init writes a new machine key (mode 0600) to FILE, refusing to overwrite one;\n"
         "rotate installs a new machine key on every board with the old one of FILE, then\n"
         "revokes the old one and replaces FILE; grant writes a new job key to JOBKEY and\n"
         "installs it on the boards chosen (the prolog of a job); revoke removes it (the\n"
         "epilog); list shows each board's keys and the requests its guard refused.\n"
         "Every verb authenticates with --key FILE or $S2_KEY_FILE when given; a key file\n"
         "that others may read is refused (docs/security.md).\n"},
        {"job", verb_job, "SLURM prolog and epilog steps; the boards of this job",
         "usage: s2ctl job begin --machine SITE (--scontrol FILE|- | --gres-idx LIST)\n"
         "                       [--job ID] [--user U] [--uid N] [--account A]\n"
         "       s2ctl job end --machine SITE --key MACHINEKEY [--job ID] [--model FILE]\n"
         "                     [--json]\n"
         "       s2ctl job show [--json]\n"
         "begin (the prolog, as root): read the job's s2board indices from `scontrol show\n"
         "job -d` (or --gres-idx), write the job's allocation file\n"
         "$S2_STATE_DIR/jobs/ID/alloc (default /var/lib/s2) and print the site boards.\n"
         "end (the epilog): read each board's activity counters and write the job's energy\n"
         "report $S2_STATE_DIR/energy/ID.s2job (user, account, boards, the whole time held).\n"
         "show (inside a job): the job's boards, renumbered from 0, and the site's behind.\n"
         "Inside a job (SLURM_JOB_ID) every verb sees only the job's boards and uses the\n"
         "job's key (docs/cluster.md). Job and user default to SLURM_JOB_ID, SLURM_JOB_USER,\n"
         "SLURM_JOB_UID and SLURM_JOB_ACCOUNT.\n"},
        {"replay", verb_replay, "print the live stream of a capture, as s2ctl stream did",
         "usage: s2ctl replay FILE.pcap IMAGE [--json] [--count-only] [--realtime]\n"
         "                    [--stream-id ID] [--serve unix:PATH|tcp:ADDR:PORT]\n"
         "                    [--client-queue BYTES] [--ready-file FILE] [--wait S] [--quiet]\n"
         "Read a capture (pcap or pcapng: Ethernet, BSD loopback, Linux cooked, raw IP) and\n"
         "decode its STREAM_DATA packets with the sources of IMAGE exactly as s2ctl stream\n"
         "does: the same lines, the same counters (of --stream-id, as stream printed it;\n"
         "default: the first stream in the file). Other packets are counted, malformed ones\n"
         "counted and skipped (naming the record); a damaged file is an error (exit 3);\n"
         "--realtime paces by the capture's timestamps. --serve passes the stream to\n"
         "applications; --ready-file is written once it listens, and --wait S lets them\n"
         "connect before the replay starts.\n"},
        {"energy", verb_energy, "what a run cost: energy, power and carbon, with provenance",
         "usage: s2ctl energy report RECORD [--model FILE] [--pue X]\n"
         "                    [--grid-intensity G [--grid-scope S]] [--grid-hourly CSV]\n"
         "                    [--grid-dataset NAME --grid-zone Z --grid-year Y]\n"
         "                    [--market-intensity G --market-source S]\n"
         "                    [--wue L --wue-source S] [--water-intensity L --water-source S]\n"
         "                    [--embodied-kg KG --lifetime-years Y] [--compile-cpu-s S]\n"
         "                    [--metric NAME=VALUE]... [--expect-rates FILE [--results F]]\n"
         "                    [--clock-tolerance-us US] [--samples N] [--csv DIR]\n"
         "                    [--svg FILE] [--openmetrics] [--json]\n"
         "                    [--baseline FILE] [--training-j J | --training-csv FILE]\n"
         "                    [--requests N] [--allow-partial]\n"
         "       s2ctl energy bench IMAGE --trials N [--out DIR] [--energy-every STEPS]\n"
         "                    [--model FILE] [--machine FILE] [--json]\n"
         "       s2ctl energy jobs [--dir DIR] [--from T] [--to T] [--model FILE]\n"
         "                    [--machine FILE] [--json]\n"
         "RECORD is written by s2ctl run --energy. Joules per phase (boot, load, run,\n"
         "readout), board and chip, static and dynamic, mean and peak power, per synaptic\n"
         "event, spike, simulated second and inference (--samples); activity metrics; the\n"
         "host's share (RAPL, else CPU time x W per core, labelled estimated); provenance\n"
         "(s2 version and commit, hashes of image, machine, results and firmware, board\n"
         "identities, UTC of every phase, host-board clock offsets); the boundary (each\n"
         "power domain measured, modelled, estimated or excluded) and how each series was\n"
         "sampled; the run's task metric (--metric, --expect-rates); CO2e = IT energy x PUE\n"
         "x grid intensity (annual, and hour by hour from a CSV), market-based apart, the\n"
         "facility overhead apart, embodied carbon (kg per board, lifetime); water on and off\n"
         "site. Every figure is tagged with its method (docs/energy.md).\n"
         "--baseline: the same model's energy per inference on other platforms (rows\n"
         "measured, modelled or estimated) beside s2's at the chips in use and the boards,\n"
         "with ratios; --training-j/--training-csv (CodeCarbon or Zeus) and --requests:\n"
         "training plus N inferences, and when s2 pays the training energy back.\n"
         "bench: runs s2ctl run IMAGE --energy N times, marks each run cold (it booted boards)\n"
         "or warm, and gives per figure the mean, standard error and spread (flagged above\n"
         "5 %).\n"
         "jobs: the SLURM epilog's job reports (DIR, default $S2_STATE_DIR/energy) summed per\n"
         "job, user and account over [--from, --to] (Unix seconds or YYYY-MM-DDTHH:MM:SSZ;\n"
         "default: the reports' span), each board counted once; the jobs plus the\n"
         "unallocated idle equal the machine's total (docs/cluster.md).\n"},
        {"plot", verb_plot, "draw a run as SVG: spike raster, rates, power, chip heatmap",
         "usage: s2ctl plot raster RESULTS -o FILE.svg [--population LABEL]...\n"
         "                         [--from MS --to MS] [--max-points N] [--allow-partial]\n"
         "       s2ctl plot rates RESULTS -o FILE.svg [--bin MS] [--population LABEL]...\n"
         "                        [--from MS --to MS] [--allow-partial]\n"
         "       s2ctl plot power RECORD -o FILE.svg\n"
         "       s2ctl plot heatmap RECORD -o FILE.svg [--machine FILE]\n"
         "                          [--what synaptic_events|energy]\n"
         "RESULTS is written by s2ctl run -o, RECORD by s2ctl run --energy. raster: a mark\n"
         "per spike, a panel per population; above --max-points spikes (default 20000, 0: no\n"
         "limit) only every k-th neuron is drawn and the plot says so. rates: mean rate (Hz)\n"
         "per population in --bin ms bins (default 10). power: watts per board, as s2ctl\n"
         "energy report --svg. heatmap: per chip on each board's chip grid, synaptic events\n"
         "(default) or modelled dynamic energy. The file is written atomically. Results of a\n"
         "partial run are refused (exit 5) unless --allow-partial.\n"},
        {"results", verb_results, "summarise run results; convert them to CSV or NumPy",
         "usage: s2ctl results FILE [--csv DIR] [--npy DIR] [--allow-partial] [--json]\n"
         "A partial run (a board stopped early) is refused with exit code 5;\n"
         "--allow-partial reads it and marks the summary, the CSV files and DIR/PARTIAL.\n"},
        {"machine", verb_machine, "make or show machine descriptions",
         "usage: s2ctl machine generate (--boards N | --rack | --racks R) [--host ADDR]\n"
         "                              [--base-port P] [--dram-kib K] [--pe-mhz F] -o FILE\n"
         "       s2ctl machine show FILE [--json]\n"
         "       s2ctl machine slurm FILE [--node NAME] [--dev-dir DIR] [--make-files]\n"
         "slurm prints the gres.conf and slurm.conf lines that make the boards of FILE the\n"
         "SLURM generic resource s2board, one per board (docs/cluster.md).\n"},
        {"net", verb_net, "convert, generate, import (NIR) or summarise network descriptions",
         "usage: s2ctl net convert FILE [-o OUT] [--to json|pb] [--json]\n"
         "       s2ctl net example NAME [--scale F] [-o OUT] [--to json|pb] [--json]\n"
         "       s2ctl net show FILE [--json]\n"
         "       s2ctl net models [--json]\n"
         "       s2ctl net import-nir FILE.nir -o NET [--dt S] [--reset subtract|zero]\n"
         "                 [--integrator exact|euler] [--input NODE=FILE.npy]... [--steps N]\n"
         "                 [--seed N] [--json]\n"
         "Networks are binary (protobuf) or JSON text; the output form follows --to, else\n"
         "the name of OUT (.json is JSON); without -o, JSON on stdout. Examples:\n"
         "microcircuit, vogels_abbott, brunel, synfire, synthetic_board, synthetic_rack,\n"
         "synthetic_8racks (--scale: neuron counts). import-nir reads a NIR graph (HDF5):\n"
         "neuron nodes become nir_neuron populations, Inputs spike sources (rasters from\n"
         "--input .npy files), linear nodes are folded into from_list projections.\n"
         "models lists the neuron models with the cycles per update and per synaptic\n"
         "event the mapper budgets (measured, docs/mapping.md).\n"},
        {"compile", verb_compile, "map a network onto a machine: a deployable image",
         "usage: s2ctl compile NET --machine FILE -o IMAGE [--router-target N|min]\n"
         "                     [--place auto|order|traffic] [--allow-slow] [--json]\n"
         "                     [--quiet]\n"
         "Partition, place, allocate keys, route, build and compress router tables and\n"
         "per-PE data; write the image atomically (nothing is written on failure) and print\n"
         "the mapping report. --router-target caps entries per chip (default: the router's\n"
         "size); min compresses every table as far as it goes (ordered tables).\n"
         "--place traffic orders each board's parts for fewer router hops, order fills\n"
         "boards in population order; auto (the default) keeps whichever of the two\n"
         "gives fewer router hops per spike (ties: order). A PE holds no more neurons than\n"
         "its clock updates in real time; a population of which one neuron is too slow is\n"
         "refused unless --allow-slow (then one per PE, and the slow-down is reported).\n"},
};

const char *cli_usage(const char *verb)
{
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (!strcmp(verbs[i].name, verb))
			return verbs[i].usage;
	return "";
}

int cli_parse(struct cli *c, const char *verb, int argc, char **argv, const struct option *extra,
              int (*on)(struct cli *c, int id, const char *arg, void *ctx), void *ctx)
{
	enum { O_MACHINE = 1, O_BOARDS, O_JSON, O_QUIET, O_HELP, O_FORCE, O_KEY, O_ATTEMPTS };
	struct option all[48];
	size_t n = 0;
	all[n++] = (struct option){"machine", required_argument, 0, O_MACHINE};
	all[n++] = (struct option){"boards", required_argument, 0, O_BOARDS};
	all[n++] = (struct option){"json", no_argument, 0, O_JSON};
	all[n++] = (struct option){"quiet", no_argument, 0, O_QUIET};
	all[n++] = (struct option){"help", no_argument, 0, O_HELP};
	all[n++] = (struct option){"force", no_argument, 0, O_FORCE};
	all[n++] = (struct option){"key", required_argument, 0, O_KEY};
	all[n++] = (struct option){"attempts", required_argument, 0, O_ATTEMPTS};
	for (size_t i = 0; extra && extra[i].name && n < 47; i++)
		all[n++] = extra[i];
	all[n] = (struct option){0, 0, 0, 0};

	memset(c, 0, sizeof *c);
	c->verb = verb;
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "o:h", all, NULL)) != -1) {
		switch (ch) {
		case O_MACHINE:
			c->machine_path = optarg;
			break;
		case O_BOARDS:
			c->boards_spec = optarg;
			break;
		case O_JSON:
			c->json = true;
			break;
		case O_QUIET:
			c->quiet = true;
			break;
		case O_FORCE:
			c->force = true;
			break;
		case O_KEY:
			c->key_path = optarg;
			break;
		case O_ATTEMPTS:
			if (cli_attempts(c, "--attempts", optarg, &c->attempts) < 0)
				return -1;
			break;
		case O_HELP:
		case 'h':
			fputs(cli_usage(verb), stdout);
			return -2;
		case '?':
			cli_error(c, EXIT_USAGE, "unknown or incomplete option '%s' (see --help)",
			          argv[optind - 1]);
			return -1;
		default:
			if (!on || on(c, ch, optarg, ctx) < 0) {
				cli_error(c, EXIT_USAGE,
				          "option '%s' does not apply here (see --help)",
				          argv[optind - 1]);
				return -1;
			}
		}
	}
	c->progress = !c->quiet && !c->json && isatty(STDERR_FILENO);
	return optind;
}

/* Roff-escape a line of usage text: backslashes, and a leading dot or quote. */
static void roff_line(FILE *f, const char *s, size_t n)
{
	if (n && (s[0] == '.' || s[0] == '\''))
		fputs("\\&", f);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\')
			fputs("\\e", f);
		else if (s[i] == '-')
			fputs("\\-", f);
		else
			fputc(s[i], f);
	}
	fputc('\n', f);
}

/* The man page of a verb (or of s2ctl, verb NULL), made from the same table as --help, so the
 * two cannot drift: the usage lines verbatim, then the description. */
static int man_page(const char *name)
{
	const struct verb *v = NULL;
	for (size_t i = 0; name && i < sizeof verbs / sizeof verbs[0]; i++)
		if (!strcmp(verbs[i].name, name))
			v = &verbs[i];
	if (name && !v) {
		fprintf(stderr, "s2ctl man: unknown verb '%s'\n", name);
		return EXIT_USAGE;
	}
	printf(".TH S2CTL%s", v ? "-" : "");
	for (const char *c = v ? v->name : ""; *c; c++)
		putchar(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
	printf(" 1 \"\" \"s2 %s\" \"s2 manual\"\n", s2_version());
	if (v) {
		printf(".SH NAME\ns2ctl\\-%s \\- %s\n.SH SYNOPSIS\n.nf\n", v->name, v->summary);
		const char *u = v->usage;
		bool body = false;
		while (*u) {
			const char *e = strchr(u, '\n');
			size_t n = e ? (size_t)(e - u) : strlen(u);
			bool synopsis = !strncmp(u, "usage:", 6) || (n && u[0] == ' ');
			if (!synopsis && !body) {
				printf(".fi\n.SH DESCRIPTION\n");
				body = true;
			}
			if (!strncmp(u, "usage: ", 7))
				roff_line(stdout, u + 7, n - 7);
			else if (!strncmp(u, "       ", 7) && !body)
				roff_line(stdout, u + 7, n - 7);
			else
				roff_line(stdout, u, n);
			u += n + (e ? 1 : 0);
		}
		if (!body)
			printf(".fi\n");
		printf(".SH COMMON OPTIONS\n\\-\\-machine FILE, \\-\\-boards LIST, \\-\\-json, "
		       "\\-\\-quiet, \\-\\-attempts N, \\-\\-help: see\n.BR s2ctl (1).\n.SH "
		       "SEE ALSO\n.BR s2ctl "
		       "(1),\n.BR s2emu (1);\n"
		       "docs/cli/ in the s2 sources.\n");
		return EXIT_OK;
	}
	printf(".SH NAME\ns2ctl \\- drive a SpiNNaker2 machine, real or emulated\n.SH SYNOPSIS\n"
	       ".B s2ctl\n[\\-\\-version] VERB [options]\n.SH VERBS\n");
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		printf(".TP\n.BR s2ctl\\-%s (1)\n%s\n", verbs[i].name, verbs[i].summary);
	printf(".SH COMMON OPTIONS\n.TP\n\\-\\-machine FILE\nthe machine description (default "
	       "$S2_MACHINE)\n.TP\n\\-\\-boards LIST\nboards to act on: all (default), 3, "
	       "0\\-3,7\n.TP\n\\-\\-json\nmachine\\-readable output\n.TP\n\\-\\-quiet\nno "
	       "progress bars, no summary lines\n.TP\n\\-\\-attempts N\nsends of each request "
	       "before a board counts as silent, 1..100 (default $S2_ATTEMPTS, else 8)\n"
	       ".TP\n\\-\\-help\nthe usage of the verb\n"
	       ".SH EXIT STATUS\n0 ok, 1 failed on the machine, 2 bad command line, 3 bad input "
	       "file, 4 a board did not answer, 5 some boards failed.\n.SH VERSION\ns2ctl %s, "
	       "protocol %u.\n",
	       s2_version(), s2_protocol_version());
	return EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: s2ctl [--version] VERB [options]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "  %-9s %s\n", "man", "print the man page of s2ctl or of a verb (roff)");
	fprintf(f, "\nEvery verb takes --help and --json. Exit codes: 0 ok, 1 failed, 2 usage,\n"
	           "3 bad input, 4 no answer from a board, 5 some boards failed (docs/cli.md).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "man")) {
		if (argc > 3) {
			fprintf(stderr, "usage: s2ctl man [VERB]\n");
			return EXIT_USAGE;
		}
		return man_page(argc == 3 ? argv[2] : NULL);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("s2ctl %s (protocol %u)\n", s2_version(), s2_protocol_version());
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (!strcmp(verbs[i].name, argv[1]))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "s2ctl: unknown verb '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
