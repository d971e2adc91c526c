#!/usr/bin/env python3
"""Run the INM-6 PyNEST microcircuit (INM-6/microcircuit-PD14-model, PyNEST/src/microcircuit,
Potjans & Diesmann 2014) in an existing NEST installation, recording the spikes of every
neuron, and write the run's facts (phases' wall times, peak memory) as JSON.

The model's own classes and parameters are used unchanged, except what is set here:
N_scaling = K_scaling = SCALE, bg_input_type = "poisson" (the repository's head defaults to
"dc"; the NEST example that s2 follows, and the published rates, use Poisson input), the
threads, the seed, t_presim and t_sim, and the data directory. Nothing here builds or
installs NEST: PYTHONPATH must reach `nest` and `microcircuit` (bench/mc_nest.sh sets it).

The transient and SIM_MS are one simulation (nest.Prepare, nest.Run in steps of --chunk ms,
default 1000, nest.Cleanup), recorded from 0 ms; with --deadline (seconds since the epoch) no further chunk is
started whose wall time, judged by the last one, would end past it, and the run's JSON and
last line say how much was simulated (t_end_ms) and that it stopped short.

usage: mc_nest_run.py SCALE PRESIM_MS SIM_MS DATA_DIR [--threads 1] [--seed 55] [--chunk 1000]
       [--deadline EPOCH_S] [--synapse static_synapse | static_synapse_hpc]
--synapse: the model copied for the recurrent connections; static_synapse_hpc is NEST's
static_synapse with a 4-byte target index instead of an 8-byte pointer (the same dynamics,
less memory per connection).
"""
import argparse
import json
import os
import resource
import sys
import time


def main():
    ap = argparse.ArgumentParser(prog="mc_nest_run.py",
                                 description=__doc__.split("\n\n")[0].replace("\n", " "))
    ap.add_argument("scale", metavar="SCALE", type=float, help="N_scaling = K_scaling, (0, 1]")
    ap.add_argument("presim", metavar="PRESIM_MS", type=float, help="the transient, ms")
    ap.add_argument("sim", metavar="SIM_MS", type=float, help="simulated after it, ms")
    ap.add_argument("data", metavar="DATA_DIR", help="NEST's spike files and run.json")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=55, help="rng_seed (default 55, the model's)")
    ap.add_argument("--chunk", type=float, default=1000.0, help="ms per nest.Run (default 1000)")
    ap.add_argument("--deadline", type=float, default=None,
                    help="seconds since the epoch: no chunk is started that would end past it")
    ap.add_argument("--synapse", default="static_synapse",
                    choices=["static_synapse", "static_synapse_hpc"],
                    help="the model copied for the recurrent connections")
    a = ap.parse_args()
    scale, presim, sim = a.scale, a.presim, a.sim
    data = os.path.abspath(a.data) + "/"
    if not 0 < scale <= 1 or presim < 0 or sim <= 0 or a.chunk <= 0:
        sys.exit(f"mc_nest_run: bad SCALE {scale:g} / PRESIM_MS {presim:g} / SIM_MS {sim:g} / "
                 f"--chunk {a.chunk:g}: need 0 < SCALE <= 1, PRESIM_MS >= 0, SIM_MS > 0, "
                 "--chunk > 0")
    os.makedirs(data, exist_ok=True)

    t_start = time.time()
    import nest
    from microcircuit import network
    from microcircuit.network_params import default_net_dict as net_dict
    from microcircuit.sim_params import default_sim_dict as sim_dict
    from microcircuit.stimulus_params import default_stim_dict as stim_dict

    net_dict["N_scaling"] = scale
    net_dict["K_scaling"] = scale
    net_dict["bg_input_type"] = "poisson"
    sim_dict.update({"t_presim": presim, "t_sim": sim, "data_path": data,
                     "local_num_threads": a.threads,
                     "rng_seed": a.seed, "rec_dev": ["spike_recorder"],
                     "print_time": False, "store_metadata": False})
    t_import = time.time()
    # NEST holds at most 2^27 - 2 connections of one synapse model per virtual process: the
    # full-scale network's 2.99e8 need 3 threads, or, as here, an identical copy of
    # static_synapse for the recurrent connections into each population (the same dynamics;
    # one thread is 4.5 times faster than two on this loaded 2-core machine, measured).
    connect = nest.Connect
    copies = {}

    def connect_by_target(pre, post, conn_spec=None, syn_spec=None, **kw):
        if isinstance(syn_spec, dict) and syn_spec.get("synapse_model") == "static_synapse" \
                and isinstance(conn_spec, dict) and conn_spec.get("rule") == "fixed_total_number":
            key = post[0].global_id
            if key not in copies:
                copies[key] = f"{a.synapse}_into_{len(copies)}"
                nest.CopyModel(a.synapse, copies[key])
            syn_spec = dict(syn_spec, synapse_model=copies[key])
        return connect(pre, post, conn_spec=conn_spec, syn_spec=syn_spec, **kw)

    class Nest:
        """nest as the model sees it: the same module but for Connect (nest refuses to have
        its attributes replaced; the model sets kernel attributes through it)."""

        def __getattr__(self, name):
            return connect_by_target if name == "Connect" else getattr(nest, name)

        def __setattr__(self, name, value):
            setattr(nest, name, value)

    network.nest = Nest()
    net = network.Network(sim_dict, net_dict, stim_dict)
    net.create()
    t_create = time.time()
    net.connect()  # includes nest.Prepare(): the connection infrastructure
    t_connect = time.time()
    # One Prepare / Run... / Cleanup: every nest.Simulate (the model's net.simulate) reopens
    # and so truncates the ASCII spike files, which would keep only the last call's spikes.
    nest.Prepare()
    if presim > 0:
        nest.Run(presim)
    t_presim = time.time()
    print(f"built in {t_connect - t_import:.1f} s, transient {presim:g} ms in "
          f"{t_presim - t_connect:.1f} s", flush=True)
    chunk = a.chunk
    deadline = a.deadline
    done, last = 0.0, 0.0
    while done < sim - 1e-9:
        step = min(chunk, sim - done)
        if deadline is not None and done > 0 and time.time() + last * step / chunk > deadline:
            break
        t = time.time()
        nest.Run(step)
        last = (time.time() - t) * chunk / step
        done += step
        print(f"simulated to {presim + done:g} ms: this step {time.time() - t:.1f} s of wall, "
              f"load {os.getloadavg()[0]:.2f}", flush=True)
    nest.Cleanup()
    t_sim = time.time()
    short = done < sim - 1e-9
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info = {"nest_version": nest.__version__ if hasattr(nest, "__version__") else None,
            "scale": scale, "t_presim_ms": presim, "t_sim_ms": done, "t_sim_asked_ms": sim,
            "t_end_ms": presim + done, "stopped_at_deadline": short,
            "dt_ms": nest.resolution, "threads": nest.local_num_threads,
            "rng_seed": nest.rng_seed, "recurrent_synapse": a.synapse, "bg_input_type": net_dict["bg_input_type"],
            "num_neurons": [int(x) for x in net.num_neurons],
            "num_connections": int(nest.num_connections),
            "populations": list(net_dict["populations"]),
            "wall_s": {"import": t_import - t_start, "create": t_create - t_import,
                       "connect": t_connect - t_create, "presim": t_presim - t_connect,
                       "sim": t_sim - t_presim, "total": t_sim - t_start},
            "peak_rss_mb": rss_kb / 1024, "load_average": os.getloadavg()}
    json.dump(info, open(os.path.join(data, "run.json"), "w"), indent=1)
    w = info["wall_s"]
    print(f"NEST {info['nest_version']}: scale {scale:g}, {info['num_connections']} connections, "
          f"{a.threads} threads; create {w['create']:.1f} s, connect "
          f"{w['connect']:.1f} s, presim {presim:g} ms {w['presim']:.1f} s, sim {done:g} ms "
          + (f"(STOPPED AT THE DEADLINE, {sim:g} ms asked) " if short else "")
          + f"{w['sim']:.1f} s ({w['sim'] / (done / 1000):.1f} s per biological second); peak RSS "
          f"{info['peak_rss_mb']:.0f} MB; load {info['load_average'][0]:.2f}")


if __name__ == "__main__":
    main()
