#!/usr/bin/env python3
"""pyNN.s2: SpikeSourceGamma and SpikeSourcePoissonRefractory (drawn on the host, docs/pynn.md
"Spike sources drawn on the host") on s2emu, against the laws they are defined by (not
against pyNN.s2's own output; pyNN.brian2 0.10.1 has neither source):

 - gamma: 200 sources, alpha 4, beta 40 Hz (10 Hz), 10 s: the mean rate within 4 standard
   errors of beta/alpha, the CV of the intervals within 0.05 of 1/sqrt(alpha) = 0.5;
 - dead time: 200 sources at 50 Hz with tau_refrac 5 ms: no interval shorter than the dead
   time (less one timestep of rounding), the rate within 4 standard errors of 50 Hz, the
   intervals' excess over the dead time exponential (its CV within 0.05 of 1);
 - start and duration honoured; run(400); run(600) gives the spikes of run(1000);
 - bad parameters refused naming the population and the parameter.
Needs S2CTL, S2EMU, S2_FIRMWARE; exit 77 without pyNN.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import s2check  # noqa: E402
try:
    import warnings
    warnings.filterwarnings("ignore")
    import numpy as np
    import pyNN  # noqa: F401
except ImportError as e:
    print("pynn_sources: skipped (%s)" % e)
    sys.exit(77)
import pyNN_s2  # noqa: F401,E402  registers pyNN.s2
import pyNN.s2 as sim  # noqa: E402

check = s2check.Checks("{mark} - {what}")


def trains(pop, t0=0.0):
    st = pop.get_data("spikes").segments[0].spiketrains
    return [np.asarray(s.magnitude, float) for s in st]


def isis(ts):
    return np.concatenate([np.diff(t) for t in ts if len(t) > 1])


T = 10000.0
sim.setup(timestep=0.1)
g = sim.Population(200, sim.SpikeSourceGamma(alpha=4, beta=40.0), label="gamma")
r = sim.Population(200, sim.SpikeSourcePoissonRefractory(rate=50.0, tau_refrac=5.0),
                   label="dead")
w = sim.Population(10, sim.SpikeSourceGamma(alpha=2, beta=100.0, start=200.0,
                                            duration=300.0), label="window")
for p in (g, r, w):
    p.record("spikes")
sim.run(T)
tg, tr, tw = trains(g), trains(r), trains(w)
n = sum(len(t) for t in tg)
rate, se = n / (200 * T / 1000.0), np.sqrt(10.0 / (200 * T / 1000.0) / 4.0)
# the count of a gamma renewal process: variance ~ rate T CV^2, so its standard error per
# source-second is sqrt(rate CV^2 / (N T))
check(abs(rate - 10.0) < 4 * se + 0.05, "gamma rate %.3f Hz (beta/alpha 10, 4 s.e. %.3f)"
      % (rate, 4 * se))
x = isis(tg)
cv = x.std() / x.mean()
check(abs(cv - 0.5) < 0.05, "gamma CV of intervals %.3f (1/sqrt(alpha) 0.5)" % cv)
n = sum(len(t) for t in tr)
rate, se = n / (200 * T / 1000.0), np.sqrt(50.0 * (1 - 50.0 * 0.005) ** 2 / (200 * T / 1000.0))
check(abs(rate - 50.0) < 4 * se + 0.05, "dead-time rate %.3f Hz (50, 4 s.e. %.3f)"
      % (rate, 4 * se))
x = isis(tr)
check(x.min() >= 5.0 - 0.1 - 1e-9, "shortest interval %.2f ms (dead time 5 ms, step 0.1)"
      % x.min())
ex = x - 5.0
cv = ex.std() / ex.mean()
check(abs(cv - 1.0) < 0.05, "intervals beyond the dead time: CV %.3f (exponential: 1)" % cv)
allw = np.concatenate(tw)
check(len(allw) > 0 and allw.min() >= 200.0 and allw.max() < 500.0 + 0.1,
      "start 200 ms, duration 300 ms: %d spikes within [%.1f, %.1f] ms"
      % (len(allw), allw.min() if len(allw) else -1, allw.max() if len(allw) else -1))
sim.end()

# run(400); run(600) gives the spikes of run(1000)
def once(parts):
    sim.setup(timestep=0.1)
    p = sim.Population(20, sim.SpikeSourceGamma(alpha=3, beta=60.0), label="g")
    p.record("spikes")
    for t in parts:
        sim.run(t)
    out = trains(p)
    sim.end()
    return out


a, b = once([1000.0]), once([400.0, 600.0])
check(all(len(x) == len(y) and np.array_equal(x, y) for x, y in zip(a, b))
      and sum(len(x) for x in a) > 0,
      "run(400); run(600) gives the %d spikes of run(1000)" % sum(len(x) for x in a))

# bad parameters: refused naming the population and the parameter
for cls, kw, name in ((sim.SpikeSourceGamma, {"alpha": 0}, "alpha"),
                      (sim.SpikeSourceGamma, {"beta": -1.0}, "beta"),
                      (sim.SpikeSourcePoissonRefractory, {"rate": 300.0, "tau_refrac": 5.0},
                       "rate"),
                      (sim.SpikeSourcePoissonRefractory, {"tau_refrac": -1.0}, "tau_refrac"),
                      (sim.SpikeSourceGamma, {"start": -1.0}, "start"),
                      (sim.SpikeSourcePoissonRefractory, {"duration": -5.0}, "duration")):
    sim.setup(timestep=0.1)
    p = sim.Population(3, cls(**kw), label="bad source")
    try:
        sim.run(10.0)
        check(False, "%s %s refused: it ran" % (cls.__name__, kw))
    except Exception as e:
        check("bad source" in str(e) and name in str(e),
              "%s %s refused: %s" % (cls.__name__, kw, e))
    sim.end()

print("pynn_sources: %d failed" % len(check.failed))
sys.exit(check.status())
