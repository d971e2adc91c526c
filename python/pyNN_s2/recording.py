"""Recorder of pyNN.s2: the spikes and voltages of the run's results (simulator.state.results,
NumPy arrays from libs2)."""
import numpy as np
from pyNN import recording, errors
from . import simulator
from .simulator import NotSupportedError


class Recorder(recording.Recorder):
    _simulator = simulator

    def _record(self, variable, new_ids, sampling_interval=None):
        if variable not in ("spikes", "v"):
            raise errors.RecordingError(variable, self.population.celltype)
        if variable == "v" and not self.population.celltype.s2_state:
            raise errors.RecordingError(variable, self.population.celltype)
        si = sampling_interval or self.sampling_interval
        if abs(si - simulator.state.dt) > 1e-12:
            raise NotSupportedError(
                "pyNN.s2: sampling_interval other than the timestep is not supported yet")

    def _results(self):
        return simulator.state.results.get(self.population._s2_label, {})

    def _start_ms(self):
        """Start of the current segment's data: 0, or the time of the last get_data(clear=True)
        (the results always hold the whole run from t = 0: a continued run() re-simulates)."""
        t = self._recording_start_time
        return float(getattr(t, "magnitude", t))

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

    def _recorded_v_neurons(self):
        ids = self.recorded["v"]
        idx = sorted(int(i) for i in self.population.id_to_index(
            np.array(sorted(ids), dtype=int)).ravel())
        return idx

    def _get_all_signals(self, variable, ids, clear=False):
        v = self._results().get("v")
        rec = self._recorded_v_neurons()
        want = [int(self.population.id_to_index(int(i))) for i in ids]
        if v is None:
            return np.zeros((0, len(ids))), None
        v = np.asarray(v, dtype=float).reshape(v.shape[0], -1)
        cols = [rec.index(n) for n in want]
        pop = self.population
        init = pop._s2_v0 if getattr(pop, "_s2_v0", None) is not None else pop._s2_initial.get(
            "v", np.full(pop.size, pop.celltype.default_initial_values["v"]))
        first = np.array([[init[n] for n in want]])
        # s2 row s is v at the end of step s, i.e. at (s+1)*dt; PyNN starts at t = 0. After a
        # get_data(clear=True) the segment starts at that time: drop the earlier samples.
        full = np.vstack([first, v[:, cols]])
        k0 = int(round(self._start_ms() / simulator.state.dt))
        return full[k0:], None

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
