"""Recorder of pyNN.s2: the spikes and state variables (v, gsyn_exc, ...) of the run's results (simulator.state.results,
NumPy arrays from libs2)."""
from collections import defaultdict

import numpy as np
from pyNN import recording, errors
from . import simulator
from .simulator import NotSupportedError


class Recorder(recording.Recorder):
    _simulator = simulator

    # The start of the current segment. PyNN's Recorder keeps it as a Quantity (t * pq.ms),
    # which would import quantities (with neo, deferred: pyNN_s2/_deferred.py) for every
    # population created; here it is also kept in ms, and the Quantity is made when PyNN's
    # code first reads it (get_data builds the segment with it), so quantities is imported
    # when the data are, not before. A Quantity PyNN sets (clear(), reset()) is kept as is.
    @property
    def _recording_start_time(self):
        q = self._s2_start_q
        if q is None:
            import quantities as pq
            q = self._s2_start_q = self._s2_start_ms * pq.ms
        return q

    @_recording_start_time.setter
    def _recording_start_time(self, t):
        if hasattr(t, "rescale"):  # a Quantity
            self._s2_start_ms, self._s2_start_q = float(t.rescale("ms").magnitude), t
        else:  # ms
            self._s2_start_ms, self._s2_start_q = float(t), None

    def __init__(self, population, file=None):
        # PyNN 0.10's Recorder.__init__, with the start in ms (the property above) instead of
        # state.t * pq.ms.
        self.file = file
        self.population = population
        self.recorded = defaultdict(set)
        self.cache = recording.DataCache()
        self._simulator.state.recorders.add(self)
        self.clear_flag = False
        self._recording_start_time = float(self._simulator.state.t)
        self.sampling_interval = self._simulator.state.dt
        self.record_times = getattr(self._simulator.state, "record_sample_times", False)

    def _record(self, variable, new_ids, sampling_interval=None):
        if variable != "spikes" and variable not in getattr(self.population.celltype,
                                                            "s2_record", {}):
            raise errors.RecordingError(variable, self.population.celltype)
        si = sampling_interval or self.sampling_interval
        k = si / simulator.state.dt
        if k < 1 - 1e-9 or abs(k - round(k)) > 1e-6 * k:
            raise NotSupportedError(
                "pyNN.s2: sampling_interval %g ms is not a whole number of timesteps (%g ms)"
                % (si, simulator.state.dt))
        self.sampling_interval = si

    def _results(self):
        return simulator.state.results.get(self.population._s2_label, {})

    def _start_ms(self):
        """Start of the current segment's data: 0, or the time of the last get_data(clear=True)
        (the results always hold the whole run from t = 0: a continued run() re-simulates)."""
        return self._s2_start_ms

    def _spikes_in_segment(self, ids):
        """(global ids, times in ms) of the recorded spikes of ids since the segment's start,
        ordered by neuron then time."""
        r = self._results().get("spikes")
        if r is None or len(r) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cells = np.asarray(self.population.all_cells, dtype=np.int64)
        keep = r[:, 1] > self._start_ms() + 1e-9  # a spike in the step ending at t is at t
        neuron = r[keep, 0].astype(np.int64)
        times = r[keep, 1]
        gid = cells[neuron]
        want = np.isin(gid, np.fromiter((int(i) for i in ids), dtype=np.int64))
        gid, times = gid[want], times[want]
        order = np.lexsort((times, gid))
        return gid[order], times[order]

    def _get_spiketimes(self, ids, clear=False):
        # The array form (ids, times): PyNN builds the segment's SpikeTrainList from it in one
        # pass (neo's from_spike_time_array) instead of one SpikeTrain per neuron up front.
        gid, times = self._spikes_in_segment(ids)
        return gid, times.astype(float)

    def _get_all_signals(self, variable, ids, clear=False):
        res = self._results()
        v, vrec = res.get("v"), res.get("vrec")
        want = [int(self.population.id_to_index(int(i))) for i in ids]
        if v is None:
            return np.zeros((0, len(ids))), None
        v = np.asarray(v, dtype=float).reshape(v.shape[0], -1)
        # the results' channels: neuron | variable << 24 (s2/results.h)
        var = self.population.celltype.s2_record[variable][1]
        col = {int(c): k for k, c in enumerate(vrec)}
        cols = [col[n | var << 24] for n in want]
        pop = self.population
        ct = pop.celltype
        if variable == "v" and getattr(pop, "_s2_v0", None) is not None:
            init = pop._s2_v0  # v at t = 0 when initialize() changed it since
        else:
            init = pop._s2_initial.get(
                variable, np.full(pop.size, ct.default_initial_values.get(variable, 0.0)))
        init = np.broadcast_to(np.asarray(init, dtype=float), (pop.size,))
        first = np.array([[init[n] for n in want]])
        # s2 row s is the value at the end of step s, i.e. at (s+1)*dt; PyNN starts at t = 0.
        # After a get_data(clear=True) the segment starts at that time: drop the earlier
        # samples. A sampling interval of k timesteps keeps every k-th sample (the engine
        # records every step).
        full = np.vstack([first, v[:, cols]])
        k0 = int(round(self._start_ms() / simulator.state.dt))
        k = int(round(self.sampling_interval / simulator.state.dt))
        return full[k0::k], None

    def _local_count(self, variable, filter_ids=None):
        if variable != "spikes":
            raise NotSupportedError("pyNN.s2: only spike counts")
        ids = self.filter_recorded(variable, filter_ids)
        gid, _ = self._spikes_in_segment(ids)
        uniq, n = np.unique(gid, return_counts=True)
        counts = dict(zip(uniq.tolist(), n.tolist()))
        return {int(i): counts.get(int(i), 0) for i in ids}

    def _clear_simulator(self):
        pass

    def _reset(self):
        pass
