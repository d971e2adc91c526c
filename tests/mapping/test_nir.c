/*
 * NIR import: small .nir files written here with libhdf5 in the layout nir/serialization.py
 * writes (vlen UTF-8 strings, edges as an (N, 2) string array, float32 arrays, scalar ints)
 * import with the contract's coefficients and the expected connectivity (conv, pooling,
 * flatten, scale, delay, Affine biases, nested graphs); each kind of bad input gives its own
 * message naming the node; the .npy reader accepts what NumPy writes and refuses the rest.
 */
#include <hdf5.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net_internal.h"
#include "cmocka_runner.h"
#include "nir_internal.h"
#include "s2/network.h"
#include "s2/nir.h"

static char dir[512];
static char path[640];

/* ---- writing NIR files ---------------------------------------------------------------- */

static void w_str(hid_t g, const char *name, const char *s)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0);
	H5Dclose(d);
	H5Sclose(sp);
	H5Tclose(t);
}

/* A fixed-length string (h5py writes these for numpy bytes arrays). */
static void w_fstr(hid_t g, const char *name, const char *s)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, strlen(s));
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0);
	H5Dclose(d);
	H5Sclose(sp);
	H5Tclose(t);
}

/* float32 array (rank 0: a scalar), written from doubles. */
static void w_num(hid_t g, const char *name, const double *v, int rank, ...)
{
	hsize_t dims[8];
	va_list ap;
	va_start(ap, rank);
	for (int i = 0; i < rank; i++)
		dims[i] = (hsize_t)va_arg(ap, int);
	va_end(ap);
	hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(g, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(d);
	H5Sclose(sp);
}

static void w_vec(hid_t g, const char *name, int n, ...)
{
	double v[64];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		v[i] = va_arg(ap, double);
	va_end(ap);
	w_num(g, name, v, 1, n);
}

/* A scalar int64 (h5py: an int field such as groups). */
static void w_int(hid_t g, const char *name, long long v)
{
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(g, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dwrite(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0);
	H5Dclose(d);
	H5Sclose(sp);
}

/* int64 array, e.g. Input shape. */
static void w_ivec(hid_t g, const char *name, int n, ...)
{
	long long v[8];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		v[i] = va_arg(ap, int);
	va_end(ap);
	hsize_t dims[1] = {(hsize_t)n};
	hid_t sp = H5Screate_simple(1, dims, NULL);
	hid_t d = H5Dcreate2(g, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dwrite(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(d);
	H5Sclose(sp);
}

/* edges: "a>b" strings, n of them, as an (n, 2) vlen UTF-8 array. */
static void w_edges(hid_t g, int n, ...)
{
	static char buf[64][2][64];
	const char *p[128];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *e = va_arg(ap, const char *);
		const char *gt = strchr(e, '>');
		snprintf(buf[i][0], 64, "%.*s", (int)(gt - e), e);
		snprintf(buf[i][1], 64, "%s", gt + 1);
		p[2 * i] = buf[i][0];
		p[2 * i + 1] = buf[i][1];
	}
	va_end(ap);
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hsize_t dims[2] = {(hsize_t)n, 2};
	hid_t sp = H5Screate_simple(2, dims, NULL);
	hid_t d = H5Dcreate2(g, "edges", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(d >= 0);
	assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) >= 0);
	H5Dclose(d);
	H5Sclose(sp);
	H5Tclose(t);
}

static hid_t w_node(hid_t nodes, const char *name, const char *type)
{
	hid_t g = H5Gcreate2(nodes, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(g >= 0);
	w_str(g, "type", type);
	return g;
}

/* A NIRGraph group in parent: returns its 'nodes' group; *graph gets the graph group. */
static hid_t w_graph(hid_t parent, const char *name, hid_t *graph)
{
	*graph = w_node(parent, name, "NIRGraph");
	hid_t n = H5Gcreate2(*graph, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(n >= 0);
	return n;
}

static hid_t f_cur, top_cur;

/* Start a file: returns the top graph's nodes group. */
static hid_t begin(const char *name)
{
	snprintf(path, sizeof path, "%s/%s.nir", dir, name);
	f_cur = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(f_cur >= 0);
	w_str(f_cur, "version", "1.0.4");
	return w_graph(f_cur, "node", &top_cur);
}

/* Finish: edges of the top graph, close everything. */
static void end(void)
{
	H5Gclose(top_cur);
	H5Fclose(f_cur);
}

/* ---- reading the result --------------------------------------------------------------- */

static struct s2_net *import(const struct s2_nir_opts *o, char *err)
{
	struct s2_nir_report r;
	struct s2_net *n = s2_net_import_nir(path, o, &r, err, 512);
	if (n)
		s2_nir_report_free(&r);
	return n;
}

static struct s2_net *must(const struct s2_nir_opts *o)
{
	char err[512] = "";
	struct s2_net *n = import(o, err);
	if (!n)
		fail_msg("%s", err);
	return n;
}

static void must_fail(const struct s2_nir_opts *o, const char *want)
{
	char err[512] = "";
	struct s2_net *n = import(o, err);
	if (n) {
		s2_net_free(n);
		fail_msg("imported, expected an error with '%s'", want);
	}
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static const S2pb__Population *pop(const struct s2_net *n, const char *label)
{
	for (size_t i = 0; i < n->pb->n_populations; i++)
		if (!strcmp(n->pb->populations[i]->label, label))
			return n->pb->populations[i];
	fail_msg("no population %s", label);
	return NULL;
}

/* Parameter of neuron i (NAN if absent: the model default applies). */
static double par(const S2pb__Population *p, const char *name, size_t i)
{
	for (size_t k = 0; k < p->n_params; k++)
		if (!strcmp(p->params[k]->name, name)) {
			const S2pb__Value *v = p->params[k]->value;
			if (v->kind_case == S2PB__VALUE__KIND_CONSTANT)
				return v->constant;
			assert_true(v->kind_case == S2PB__VALUE__KIND_ARRAY);
			assert_true(i < v->array->n_values);
			return v->array->values[i];
		}
	return NAN;
}

/* par with the model default for absent parameters. */
static double parv(const S2pb__Population *p, const char *name, size_t i)
{
	double v = par(p, name, i);
	if (!isnan(v))
		return v;
	const struct net_model *m = net_model_find("nir_neuron");
	int k = net_model_param(m, name, false);
	assert_true(k >= 0);
	return m->params[k].def;
}

static const S2pb__Projection *proj(const struct s2_net *n, const char *label)
{
	for (size_t i = 0; i < n->pb->n_projections; i++)
		if (!strcmp(n->pb->projections[i]->label, label))
			return n->pb->projections[i];
	return NULL;
}

/* Weight of pre -> post in a from_list projection (0 if none); *delay_ms gets the delay. */
static double syn(const S2pb__Projection *p, uint32_t pre, uint32_t post, double *delay_ms)
{
	if (!p)
		return 0;
	const S2pb__FromList *l = p->from_list;
	for (size_t i = 0; i < l->n_pre; i++)
		if (l->pre[i] == pre && l->post[i] == post) {
			if (delay_ms)
				*delay_ms = l->delay[i];
			return l->weight[i];
		}
	return 0;
}

static void near(double a, double b)
{
	if (!(fabs(a - b) <= 1e-6 * (1 + fabs(b))))
		fail_msg("%.9g != %.9g", a, b);
}

/* ---- tests ---------------------------------------------------------------------------- */

/* A 2x2 conv over 1x3x3 gives 4 outputs with 4 synapses each (weights as in the kernel). */
static void t_conv2d(void **state)
{
	(void)state;
	hid_t n = begin("conv"), g;
	g = w_node(n, "in", "Input");
	w_ivec(g, "shape", 3, 1, 3, 3);
	H5Gclose(g);
	g = w_node(n, "conv", "Conv2d");
	double w[4] = {1, 2, 3, -4};
	w_num(g, "weight", w, 4, 1, 1, 2, 2);
	w_ivec(g, "stride", 2, 1, 1);
	w_ivec(g, "padding", 2, 0, 0);
	w_ivec(g, "dilation", 2, 1, 1);
	w_int(g, "groups", 1);
	w_vec(g, "bias", 1, 0.5);
	w_ivec(g, "input_shape", 2, 3, 3);
	H5Gclose(g);
	g = w_node(n, "lif", "LIF");
	w_vec(g, "tau", 1, 0.01);
	w_vec(g, "r", 1, 1.0);
	w_vec(g, "v_leak", 1, 0.0);
	w_vec(g, "v_threshold", 1, 1.0);
	H5Gclose(g);
	g = w_node(n, "out", "Output");
	H5Gclose(g);
	H5Gclose(n);
	w_edges(top_cur, 3, "in>conv", "conv>lif", "lif>out");
	end();
	struct s2_net *net = must(NULL);
	assert_int_equal(pop(net, "lif")->size, 4);
	const S2pb__Projection *e = proj(net, "in->lif:exc"), *i = proj(net, "in->lif:inh");
	assert_non_null(e);
	assert_non_null(i);
	assert_int_equal(e->from_list->n_pre, 12);
	assert_int_equal(i->from_list->n_pre, 4);
	for (uint32_t oy = 0; oy < 2; oy++)
		for (uint32_t ox = 0; ox < 2; ox++)
			for (uint32_t ky = 0; ky < 2; ky++)
				for (uint32_t kx = 0; kx < 2; kx++) {
					uint32_t pre = (oy + ky) * 3 + ox + kx, post = oy * 2 + ox;
					double want = w[ky * 2 + kx], d = 0;
					double got = want > 0 ? syn(e, pre, post, &d)
					                      : -syn(i, pre, post, &d);
					near(got, want);
					near(d, 1); /* 1 step at dt 1 ms */
				}
	for (int k = 0; k < 4; k++)
		near(par(pop(net, "lif"), "bias", k), 0.5);
	s2_net_free(net);
}

/* Conv1d with padding 'same' and two groups. */
static void t_conv1d(void **state)
{
	(void)state;
	hid_t n = begin("conv1d"), g;
	g = w_node(n, "in", "Input");
	w_ivec(g, "shape", 2, 2, 4);
	H5Gclose(g);
	g = w_node(n, "c", "Conv1d");
	double w[6] = {1, 2, 3, 4, 5, 6}; /* (2, 1, 3): groups 2 */
	w_num(g, "weight", w, 3, 2, 1, 3);
	w_int(g, "stride", 1);
	w_str(g, "padding", "same");
	w_int(g, "dilation", 1);
	w_int(g, "groups", 2);
	w_vec(g, "bias", 2, 0.0, 0.0);
	H5Gclose(g);
	g = w_node(n, "t", "Threshold");
	w_vec(g, "threshold", 1, 0.5);
	H5Gclose(g);
	H5Gclose(n);
	w_edges(top_cur, 2, "in>c", "c>t");
	end();
	struct s2_net *net = must(NULL);
	assert_int_equal(pop(net, "t")->size, 8);
	const S2pb__Projection *e = proj(net, "in->t:exc");
	assert_non_null(e);
	/* out[c][x] = sum_k w[c][k] in[c][x - 1 + k] */
	for (uint32_t c = 0; c < 2; c++)
		for (int x = 0; x < 4; x++)
			for (int k = 0; k < 3; k++) {
				int ix = x - 1 + k;
				if (ix < 0 || ix >= 4)
					continue;
				near(syn(e, c * 4 + (uint32_t)ix, c * 4 + (uint32_t)x, NULL),
				     w[c * 3 + k]);
			}
	assert_int_equal(e->from_list->n_pre, 2 * (2 + 3 + 3 + 2));
	s2_net_free(net);
}

static void pool_case(const char *type, double wv)
{
	hid_t n = begin(type), g;
	g = w_node(n, "in", "Input");
	w_ivec(g, "shape", 3, 2, 4, 4);
	H5Gclose(g);
	g = w_node(n, "p", type);
	w_ivec(g, "kernel_size", 2, 2, 2);
	w_ivec(g, "stride", 2, 2, 2);
	w_ivec(g, "padding", 2, 0, 0);
	H5Gclose(g);
	g = w_node(n, "f", "IF");
	w_vec(g, "r", 1, 1.0);
	w_vec(g, "v_threshold", 1, 1.0);
	H5Gclose(g);
	H5Gclose(n);
	w_edges(top_cur, 2, "in>p", "p>f");
	end();
	struct s2_net *net = must(NULL);
	assert_int_equal(pop(net, "f")->size, 8);
	const S2pb__Projection *e = proj(net, "in->f:exc");
	assert_non_null(e);
	assert_int_equal(e->from_list->n_pre, 32);
	/* channel 1, output (1, 0) sums inputs (2..3, 0..1) of channel 1 */
	for (uint32_t y = 2; y < 4; y++)
		for (uint32_t x = 0; x < 2; x++)
			near(syn(e, 16 + y * 4 + x, 4 + 2, NULL), wv);
	near(syn(e, 0, 4 + 2, NULL), 0);
	s2_net_free(net);
}

static void t_pool(void **state)
{
	(void)state;
	pool_case("SumPool2d", 1);
	pool_case("AvgPool2d", 0.25);
}

/* Input(2) -> Affine -> Scale -> LI: weights W * s, the bias b * s; LI coefficients. */
static void t_affine_scale_li(void **state)
{
	(void)state;
	hid_t n = begin("affine"), g;
	g = w_node(n, "in", "Input");
	w_ivec(g, "shape", 1, 2);
	H5Gclose(g);
	g = w_node(n, "fc", "Affine");
	double w[6] = {1, -2, 0, 3, 0.5, 0};
	w_num(g, "weight", w, 2, 3, 2);
	w_vec(g, "bias", 3, 0.1, 0.2, -0.3);
	H5Gclose(g);
	g = w_node(n, "s", "Scale");
	w_vec(g, "scale", 3, 2.0, 3.0, 4.0);
	H5Gclose(g);
	g = w_node(n, "li", "LI");
	w_vec(g, "tau", 3, 0.01, 0.02, 0.04);
	w_vec(g, "r", 1, 2.0);
	w_vec(g, "v_leak", 1, 0.5);
	H5Gclose(g);
	H5Gclose(n);
	w_edges(top_cur, 3, "in>fc", "fc>s", "s>li");
	end();
	struct s2_net *net = must(NULL);
	const S2pb__Projection *e = proj(net, "in->li:exc"), *i = proj(net, "in->li:inh");
	near(syn(e, 0, 0, NULL), 2);
	near(syn(i, 1, 0, NULL), 4);
	near(syn(e, 1, 1, NULL), 9);
	near(syn(e, 0, 2, NULL), 2);
	assert_int_equal(e->from_list->n_pre + i->from_list->n_pre, 4);
	const S2pb__Population *p = pop(net, "li");
	static const double tau[3] = {0.01, 0.02, 0.04}, bias[3] = {0.2, 0.6, -1.2};
	for (int k = 0; k < 3; k++) {
		double ee = exp(-0.001 / tau[k]);
		near(parv(p, "a_v", k), ee);
		near(parv(p, "b_v", k), (1 - ee) * 0.5);
		near(parv(p, "g_v", k), (1 - ee) * 2);
		near(parv(p, "a_i", k), 0);
		near(parv(p, "g_i", k), 1);
		near(parv(p, "bias", k), bias[k]);
		near(parv(p, "spiking", k), 0);
	}
	assert_int_equal(p->max_per_pe, 0);
	assert_int_equal(net->pb->n_recordings, 2); /* the input's spikes, the read-out's v */
	for (size_t k = 0; k < 2; k++)
		assert_string_equal(net->pb->recordings[k]->variable,
		                    strcmp(net->pb->recordings[k]->population, p->label) ? "spikes"
		                                                                         : "v");
	s2_net_free(net);
}

/* Delay: 1 + round(delay / dt) steps; Flatten passes elements through. */
static void t_delay_flatten(void **state)
{
	(void)state;
	hid_t n = begin("delay"), g;
	g = w_node(n, "in", "Input");
	w_ivec(g, "shape", 2, 1, 2);
	H5Gclose(g);
	g = w_node(n, "fl", "Flatten");
	w_int(g, "start_dim", 0);
	w_int(g, "end_dim", -1);
	H5Gclose(g);
	g = w_node(n, "d", "Delay");
	w_vec(g, "delay", 2, 0.002, 0.0034);
	H5Gclose(g);
	g = w_node(n, "lif", "LIF");
	w_vec(g, "tau", 2, 0.01, 0.01);
	w_vec(g, "r", 1, 1.0);
	w_vec(g, "v_leak", 1, 0.0);
	w_vec(g, "v_threshold", 1, 1.0);
	H5Gclose(g);
	H5Gclose(n);
	w_edges(top_cur, 3, "in>fl", "fl>d", "d>lif");
	end();
	struct s2_nir_opts o = {.dt = 0.001};
	struct s2_net *net = must(&o);
	const S2pb__Projection *e = proj(net, "in->lif:exc");
	double d0 = 0, d1 = 0;
	near(syn(e, 0, 0, &d0), 1);
	near(syn(e, 1, 1, &d1), 1);
	near(d0, 3);
	near(d1, 4);
	s2_net_free(net);
	o.dt = 0.0001; /* 0.0034 s = 34 steps: 35 */
	net = must(&o);
	e = proj(net, "in->lif:exc");
	syn(e, 1, 1, &d1);
	near(d1, 3.5);
	s2_net_free(net);
	o.dt = 0.00001; /* 0.002 s = 201 steps: too long */
	must_fail(&o, "node 'lif' (LIF): a delay of 201 steps from 'in'");
}

/* Coefficients of every neuron type (contract table), exact and euler, reset modes. */
static void neuron_file(void)
{
	hid_t n = begin("neurons"), g;
	g = w_node(n, "in", "Input");
	w_ivec(g, "shape", 1, 1);
	H5Gclose(g);
	g = w_node(n, "lif", "LIF");
	w_vec(g, "tau", 1, 0.02);
	w_vec(g, "r", 1, 3.0);
	w_vec(g, "v_leak", 1, 0.25);
	w_vec(g, "v_threshold", 1, 1.5);
	w_vec(g, "v_reset", 1, -0.5);
	H5Gclose(g);
	g = w_node(n, "cuba", "CubaLIF");
	w_vec(g, "tau_syn", 1, 0.005);
	w_vec(g, "tau_mem", 1, 0.02);
	w_vec(g, "r", 1, 2.0);
	w_vec(g, "v_leak", 1, 0.1);
	w_vec(g, "v_threshold", 1, 2.0);
	w_vec(g, "w_in", 1, 1.5);
	H5Gclose(g);
	g = w_node(n, "if", "IF");
	w_vec(g, "r", 1, 4.0);
	w_vec(g, "v_threshold", 1, 0.7);
	H5Gclose(g);
	g = w_node(n, "i", "I");
	w_vec(g, "r", 1, 5.0);
	H5Gclose(g);
	g = w_node(n, "cli", "CubaLI");
	w_vec(g, "tau_syn", 1, 0.005);
	w_vec(g, "tau_mem", 1, 0.02);
	w_vec(g, "r", 1, 2.0);
	w_vec(g, "v_leak", 1, 0.1);
	H5Gclose(g);
	g = w_node(n, "th", "Threshold");
	w_vec(g, "threshold", 1, 0.3);
	H5Gclose(g);
	H5Gclose(n);
	w_edges(top_cur, 6, "in>lif", "in>cuba", "in>if", "in>i", "in>cli", "in>th");
	end();
}

static void t_coefficients(void **state)
{
	(void)state;
	neuron_file();
	const double dt = 0.001;
	for (int euler = 0; euler < 2; euler++)
		for (int zero = 0; zero < 2; zero++) {
			struct s2_nir_opts o = {.dt = dt, .euler = euler, .reset_zero = zero};
			struct s2_net *net = must(&o);
			const S2pb__Population *p = pop(net, "lif");
			double e = euler ? 1 - dt / 0.02 : exp(-dt / 0.02),
			       k = euler ? dt / 0.02 : 1 - e;
			near(parv(p, "a_i", 0), 0);
			near(parv(p, "g_i", 0), 1);
			near(parv(p, "a_v", 0), e);
			near(parv(p, "b_v", 0), k * 0.25);
			near(parv(p, "g_v", 0), k * 3);
			near(parv(p, "v_thresh", 0), 1.5);
			near(parv(p, "v_reset", 0), -0.5);
			near(parv(p, "reset_subtract", 0), zero ? 0 : 1);
			near(parv(p, "spiking", 0), 1);
			p = pop(net, "cuba");
			double es = euler ? 1 - dt / 0.005 : exp(-dt / 0.005),
			       ks = euler ? dt / 0.005 : 1 - es;
			near(parv(p, "a_i", 0), es);
			near(parv(p, "g_i", 0), ks * 1.5);
			near(parv(p, "a_v", 0), e);
			near(parv(p, "b_v", 0), k * 0.1);
			near(parv(p, "g_v", 0), k * 2);
			near(parv(p, "v_thresh", 0), 2);
			near(parv(p, "v_reset", 0), 0);
			p = pop(net, "cli");
			near(parv(p, "a_i", 0), es);
			near(parv(p, "g_i", 0), ks); /* w_in absent: 1 */
			near(parv(p, "spiking", 0), 0);
			assert_int_equal(p->max_per_pe, 0);
			p = pop(net, "if");
			near(parv(p, "a_v", 0), 1);
			near(parv(p, "b_v", 0), 0);
			near(parv(p, "g_v", 0), 4 * dt);
			near(parv(p, "v_thresh", 0), 0.7);
			near(parv(p, "spiking", 0), 1);
			p = pop(net, "i");
			near(parv(p, "a_v", 0), 1);
			near(parv(p, "g_v", 0), 5 * dt);
			near(parv(p, "spiking", 0), 0);
			p = pop(net, "th");
			near(parv(p, "a_v", 0), 0);
			near(parv(p, "b_v", 0), 0);
			near(parv(p, "g_v", 0), 1);
			near(parv(p, "v_thresh", 0), 0.3);
			near(parv(p, "v_reset", 0), 0);
			near(parv(p, "reset_subtract", 0), 0);
			near(parv(p, "spiking", 0), 1);
			/* in -> each neuron: one-to-one weight 1, delay 1 step */
			double d = 0;
			near(syn(proj(net, "in->th:exc"), 0, 0, &d), 1);
			near(d, 1);
			s2_net_free(net);
		}
	/* euler with dt > tau: a_v would be negative */
	struct s2_nir_opts o = {.dt = 0.01, .euler = true};
	must_fail(&o, "node 'cli' (CubaLI): tau_syn[0] 0.005 s is shorter than dt 0.01 s");
}

/* A nested graph: names joined with '.', edges into / out of it via its Input / Output. */
static void t_nested(void **state)
{
	(void)state;
	hid_t n = begin("nested"), g, sub, subn;
	g = w_node(n, "in", "Input");
	w_ivec(g, "shape", 1, 3);
	H5Gclose(g);
	subn = w_graph(n, "blk", &sub);
	g = w_node(subn, "input", "Input");
	w_ivec(g, "shape", 1, 3);
	H5Gclose(g);
	g = w_node(subn, "s", "Scale");
	w_vec(g, "scale", 1, 2.0);
	H5Gclose(g);
	g = w_node(subn, "lif", "LIF");
	w_vec(g, "tau", 1, 0.01);
	w_vec(g, "r", 1, 1.0);
	w_vec(g, "v_leak", 1, 0.0);
	w_vec(g, "v_threshold", 1, 1.0);
	H5Gclose(g);
	g = w_node(subn, "output", "Output");
	H5Gclose(g);
	H5Gclose(subn);
	w_edges(sub, 3, "input>s", "s>lif", "lif>output");
	H5Gclose(sub);
	g = w_node(n, "lin", "Linear");
	double w[9] = {0, 0, 1, 0, 1, 0, 1, 0, 0};
	w_num(g, "weight", w, 2, 3, 3);
	H5Gclose(g);
	g = w_node(n, "th", "Threshold");
	w_vec(g, "threshold", 3, 0.1, 0.2, 0.3);
	H5Gclose(g);
	H5Gclose(n);
	w_edges(top_cur, 3, "in>blk", "blk>lin", "lin>th");
	end();
	struct s2_net *net = must(NULL);
	assert_int_equal(pop(net, "blk.lif")->size, 3);
	near(syn(proj(net, "in->blk.lif:exc"), 1, 1, NULL), 2);
	near(syn(proj(net, "blk.lif->th:exc"), 0, 2, NULL), 1);
	near(syn(proj(net, "blk.lif->th:exc"), 2, 0, NULL), 1);
	near(par(pop(net, "th"), "v_thresh", 2), 0.3);
	s2_net_free(net);
}

/* Fixed-length strings for type and edges (older writers) import too; two paths sum. */
static void t_fixed_strings_parallel(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "%s/fixed.nir", dir);
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	hid_t top = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	w_fstr(top, "type", "NIRGraph");
	hid_t n = H5Gcreate2(top, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	hid_t g = H5Gcreate2(n, "in", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	w_fstr(g, "type", "Input");
	w_ivec(g, "shape", 1, 2);
	H5Gclose(g);
	g = H5Gcreate2(n, "a", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	w_fstr(g, "type", "Scale");
	w_vec(g, "scale", 2, 1.0, -3.0);
	H5Gclose(g);
	g = H5Gcreate2(n, "b", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	w_fstr(g, "type", "Scale");
	w_vec(g, "scale", 2, 2.0, 1.0);
	H5Gclose(g);
	g = H5Gcreate2(n, "lif", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	w_fstr(g, "type", "LIF");
	w_vec(g, "tau", 1, 0.01);
	w_vec(g, "r", 1, 1.0);
	w_vec(g, "v_leak", 1, 0.0);
	w_vec(g, "v_threshold", 1, 1.0);
	H5Gclose(g);
	H5Gclose(n);
	/* edges as fixed-length 8-byte strings */
	const char e[4][2][8] = {{"in", "a"}, {"in", "b"}, {"a", "lif"}, {"b", "lif"}};
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, 8);
	hsize_t dims[2] = {4, 2};
	hid_t sp = H5Screate_simple(2, dims, NULL);
	hid_t d = H5Dcreate2(top, "edges", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, e) >= 0);
	H5Dclose(d);
	H5Sclose(sp);
	H5Tclose(t);
	H5Gclose(top);
	H5Fclose(f);
	struct s2_net *net = must(NULL);
	near(syn(proj(net, "in->lif:exc"), 0, 0, NULL), 3);
	near(syn(proj(net, "in->lif:inh"), 1, 1, NULL), 2);
	s2_net_free(net);
}

/* A small chain used by the error cases: Input(4) -> Affine(4x4) -> LIF(4). */
static hid_t chain(const char *name, int in_n, int w_in)
{
	hid_t n = begin(name), g;
	g = w_node(n, "in", "Input");
	w_ivec(g, "shape", 1, in_n);
	H5Gclose(g);
	g = w_node(n, "fc", "Affine");
	double w[64] = {0};
	for (int i = 0; i < 4 && i < w_in; i++)
		w[i * w_in + i] = 1;
	w_num(g, "weight", w, 2, 4, w_in);
	w_vec(g, "bias", 4, 0.0, 0.0, 0.0, 0.0);
	H5Gclose(g);
	return n;
}

static void lif4(hid_t n, const char *name, int ntau)
{
	hid_t g = w_node(n, name, "LIF");
	double tau[8] = {0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
	w_num(g, "tau", tau, 1, ntau);
	w_vec(g, "r", 1, 1.0);
	w_vec(g, "v_leak", 1, 0.0);
	w_vec(g, "v_threshold", 1, 1.0);
	H5Gclose(g);
}

static void t_errors(void **state)
{
	(void)state;
	hid_t n = chain("e_missing", 4, 4);
	lif4(n, "lif", 4);
	H5Gclose(n);
	w_edges(top_cur, 2, "in>fc", "fc>lfi");
	end();
	must_fail(NULL, "an edge names node 'lfi', which does not exist");

	n = chain("e_shape", 5, 4);
	lif4(n, "lif", 4);
	H5Gclose(n);
	w_edges(top_cur, 2, "in>fc", "fc>lif");
	end();
	must_fail(NULL, "node 'fc' (Affine): weight takes 4 inputs, the input has 5 elements");

	n = chain("e_param", 4, 4);
	lif4(n, "lif", 3);
	H5Gclose(n);
	w_edges(top_cur, 2, "in>fc", "fc>lif");
	end();
	must_fail(NULL, "node 'lif' (LIF): tau has 3 elements, the node has 4");

	n = chain("e_type", 4, 4);
	H5Gclose(w_node(n, "x", "Quux"));
	H5Gclose(n);
	w_edges(top_cur, 2, "in>fc", "fc>x");
	end();
	must_fail(NULL, "node 'x' (Quux): unknown node type");

	n = chain("e_cycle", 4, 4);
	hid_t g = w_node(n, "s", "Scale");
	w_vec(g, "scale", 1, 0.5);
	H5Gclose(g);
	lif4(n, "lif", 4);
	H5Gclose(n);
	w_edges(top_cur, 4, "in>fc", "fc>s", "s>fc", "s>lif");
	end();
	must_fail(NULL, "is on a cycle of linear nodes only");

	n = begin("e_conv");
	g = w_node(n, "in", "Input");
	w_ivec(g, "shape", 3, 1, 3, 3);
	H5Gclose(g);
	g = w_node(n, "conv1", "Conv2d");
	double w[4] = {1, 1, 1, 1};
	w_num(g, "weight", w, 3, 1, 2, 2);
	H5Gclose(g);
	lif4(n, "lif", 1);
	H5Gclose(n);
	w_edges(top_cur, 2, "in>conv1", "conv1>lif");
	end();
	must_fail(NULL, "node 'conv1' (Conv2d): weight has 3 dimensions, expected 4");

	/* element-count mismatch on an edge between two neuron nodes */
	n = chain("e_edge", 4, 4);
	lif4(n, "lif", 4);
	g = w_node(n, "lif2", "LIF");
	w_vec(g, "tau", 2, 0.01, 0.01);
	w_vec(g, "r", 1, 1.0);
	w_vec(g, "v_leak", 1, 0.0);
	w_vec(g, "v_threshold", 1, 1.0);
	H5Gclose(g);
	H5Gclose(n);
	w_edges(top_cur, 3, "in>fc", "fc>lif", "lif>lif2");
	end();
	must_fail(NULL, "node 'lif2' (LIF): tau has 2 elements, the node has 4");

	/* element-count mismatch on an edge */
	n = chain("e_count", 4, 4);
	lif4(n, "lif", 4);
	g = w_node(n, "in2", "Input");
	w_ivec(g, "shape", 1, 2);
	H5Gclose(g);
	H5Gclose(n);
	w_edges(top_cur, 3, "in>fc", "fc>lif", "in2>lif");
	end();
	must_fail(NULL, "edge 'in2' -> 'lif': 'in2' (Input) gives 2 elements (2,), 'lif' (LIF) "
	                "takes 4 (4,)");

	/* an edge into a top-level Input */
	n = chain("e_into_input", 4, 4);
	lif4(n, "lif", 4);
	H5Gclose(n);
	w_edges(top_cur, 3, "in>fc", "fc>lif", "lif>in");
	end();
	must_fail(NULL, "node 'in' (Input): an edge from 'lif' leads into a top-level Input");

	/* no such file, not HDF5, not NIR */
	snprintf(path, sizeof path, "%s/none.nir", dir);
	must_fail(NULL, "cannot open the file");
	snprintf(path, sizeof path, "%s/text.nir", dir);
	FILE *f = fopen(path, "w");
	fputs("hello\n", f);
	fclose(f);
	must_fail(NULL, "not an HDF5 file");
	snprintf(path, sizeof path, "%s/empty.nir", dir);
	hid_t h = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	H5Fclose(h);
	must_fail(NULL, "no group 'node' with a 'type'");
}

/* ---- .npy ----------------------------------------------------------------------------- */

static size_t npy(uint8_t *buf, int major, const char *dict, const void *data, size_t dlen)
{
	size_t hdr = major == 1 ? 10 : 12, dl = strlen(dict);
	size_t total = (hdr + dl + 1 + 63) / 64 * 64, hl = total - hdr;
	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (uint8_t)major;
	buf[7] = 0;
	if (major == 1) {
		buf[8] = (uint8_t)hl;
		buf[9] = (uint8_t)(hl >> 8);
	} else {
		buf[8] = (uint8_t)hl;
		buf[9] = (uint8_t)(hl >> 8);
		buf[10] = buf[11] = 0;
	}
	memcpy(buf + hdr, dict, dl);
	memset(buf + hdr + dl, ' ', hl - dl - 1);
	buf[total - 1] = '\n';
	memcpy(buf + total, data, dlen);
	return total + dlen;
}

static void t_npy(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct npy_array a;
	char err[256];
	const int16_t i16[6] = {0, 1, -2, 0, 3, 0};
	size_t n = npy(buf, 1, "{'descr': '<i2', 'fortran_order': False, 'shape': (3, 2), }", i16,
	               sizeof i16);
	assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), 0);
	assert_int_equal(a.rank, 2);
	assert_int_equal(a.dims[0], 3);
	assert_int_equal(a.n, 6);
	near(a.v[2], -2);
	npy_free(&a);
	const float f4[2] = {0.5f, -1};
	n = npy(buf, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4, sizeof f4);
	assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), 0);
	near(a.v[1], -1);
	npy_free(&a);
	const uint8_t b1[2] = {1, 0};
	n = npy(buf, 3, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", b1, 2);
	assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), 0);
	near(a.v[0], 1);
	npy_free(&a);
	static const struct {
		const char *dict;
		size_t dlen;
		const char *want;
	} BAD[] = {
	        {"{'descr': '<i2', 'fortran_order': True, 'shape': (3, 2), }", 12, "Fortran order"},
	        {"{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }", 12, "big-endian"},
	        {"{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", 24, "object arrays"},
	        {"{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", 16, "not supported"},
	        {"{'descr': '<i2', 'fortran_order': False, 'shape': (4, 2), }", 12, "truncated"},
	        {"{'descr': '<i2', 'shape': (4, 2), }", 16, "not a valid dict"},
	        {"{'descr': [('a', '<i2')], 'fortran_order': False, 'shape': (1,), }", 2,
	         "structured"},
	};
	for (size_t k = 0; k < sizeof BAD / sizeof *BAD; k++) {
		uint8_t z[32] = {0};
		n = npy(buf, 1, BAD[k].dict, z, BAD[k].dlen);
		assert_int_equal(npy_parse(buf, n, &a, err, sizeof err), -1);
		if (!strstr(err, BAD[k].want))
			fail_msg("%s: '%s' lacks '%s'", BAD[k].dict, err, BAD[k].want);
		assert_null(a.v);
	}
	assert_int_equal(
	        npy_parse((const uint8_t *)"\x93NUMPY\x04\x00\x00\x00", 10, &a, err, sizeof err),
	        -1);
	assert_non_null(strstr(err, "version 4.0"));
}

static void write_file(const char *p, const uint8_t *b, size_t n)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

/* --input: a raster (T, *shape) fills the spike source; --steps caps it; bad inputs fail. */
static void t_input(void **state)
{
	(void)state;
	hid_t n = chain("input", 4, 4);
	lif4(n, "lif", 4);
	H5Gclose(n);
	w_edges(top_cur, 2, "in>fc", "fc>lif");
	end();
	uint8_t buf[512];
	const uint8_t r[12] = {1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0}; /* (3, 4) */
	char np[640], arg[700];
	snprintf(np, sizeof np, "%s/in.npy", dir);
	write_file(
	        np, buf,
	        npy(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4), }", r, 12));
	struct s2_nir_input in = {"in", np};
	struct s2_nir_opts o = {.dt = 0.001, .inputs = &in, .n_inputs = 1};
	struct s2_net *net = must(&o);
	const S2pb__Population *p = pop(net, "in");
	assert_int_equal(p->n_spike_times, 4);
	assert_int_equal(p->spike_times[0]->n_times_ms, 2);
	near(p->spike_times[0]->times_ms[1], 2);
	assert_int_equal(p->spike_times[3]->n_times_ms, 1);
	near(p->spike_times[3]->times_ms[0], 1);
	near(s2_net_run_ms(net), 3);
	s2_net_free(net);
	o.steps = 2;
	net = must(&o);
	assert_int_equal(pop(net, "in")->spike_times[0]->n_times_ms, 1);
	near(s2_net_run_ms(net), 2);
	s2_net_free(net);
	o.steps = 0;
	write_file(
	        np, buf,
	        npy(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 3), }", r, 12));
	must_fail(&o, "shape (4, 3) does not fit node 'in' (Input) of shape (4,)");
	write_file(
	        np, buf,
	        npy(buf, 1, "{'descr': '|u1', 'fortran_order': True, 'shape': (3, 4), }", r, 12));
	must_fail(&o, "Fortran order");
	in.node = "lif";
	must_fail(&o, "--input lif: no top-level Input node 'lif' (Inputs: in)");
	(void)arg;
}

/* The tree the reader process sends back: encode -> decode -> encode is stable; damaged
 * encodings are refused with a reason. */
static void t_tree_encoding(void **state)
{
	(void)state;
	neuron_file();
	char err[512] = "";
	struct nir_obj *t = nir_read_file(path, err, sizeof err);
	if (!t)
		fail_msg("%s", err);
	uint8_t *a, *b;
	size_t al, bl;
	assert_int_equal(nir_tree_encode(t, &a, &al), 0);
	struct nir_obj *u = nir_tree_decode(a, al, err, sizeof err);
	if (!u)
		fail_msg("%s", err);
	assert_int_equal(nir_tree_encode(u, &b, &bl), 0);
	assert_int_equal(al, bl);
	assert_memory_equal(a, b, al);
	const struct nir_obj *lif = nir_child(nir_child(nir_child(u, "node"), "nodes"), "lif");
	assert_non_null(lif);
	assert_int_equal(nir_child(lif, "tau")->kind, NIR_NUM);
	assert_string_equal(nir_child(lif, "type")->s[0], "LIF");
	assert_null(nir_tree_decode(a, al - 1, err, sizeof err));
	assert_true(!strncmp(err, "tree: ", 6));
	a[al / 2] ^= 0x80;
	struct nir_obj *v = nir_tree_decode(a, al, err, sizeof err);
	nir_tree_free(v); /* may or may not decode; must not crash */
	free(a);
	free(b);
	nir_tree_free(t);
	nir_tree_free(u);
}

/* A file on which libhdf5 1.10.8 segfaults (found by fuzz_nir): an error, not a crash. */
static void t_libhdf5_crash(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "%s",
	         S2_SOURCE_DIR "/tests/fuzz/corpus/nir/libhdf5_segv_h5hg_read.nir");
	char err[512] = "";
	struct s2_net *n = import(NULL, err);
	assert_null(n);
	assert_true(!strncmp(err, path, strlen(path)));
}

/* The in-memory entry reads the same file from an image. */
static void t_image(void **state)
{
	(void)state;
	neuron_file();
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static uint8_t img[1 << 16];
	size_t len = fread(img, 1, sizeof img, f);
	fclose(f);
	char err[512];
	struct s2_net *n = s2_net_import_nir_image(img, len, NULL, NULL, err, sizeof err);
	if (!n)
		fail_msg("%s", err);
	assert_int_equal(s2_net_populations(n), 7);
	s2_net_free(n);
	img[len / 2] ^= 0xff;
	n = s2_net_import_nir_image(img, 100, NULL, NULL, err, sizeof err);
	assert_null(n);
	assert_non_null(strstr(err, "image"));
}

static int setup(void **state)
{
	(void)state;
	return s2t_mkdtemp(dir, sizeof dir, "s2nir") ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(t_conv2d),        cmocka_unit_test(t_conv1d),
	        cmocka_unit_test(t_pool),          cmocka_unit_test(t_affine_scale_li),
	        cmocka_unit_test(t_delay_flatten), cmocka_unit_test(t_coefficients),
	        cmocka_unit_test(t_nested),        cmocka_unit_test(t_fixed_strings_parallel),
	        cmocka_unit_test(t_errors),        cmocka_unit_test(t_npy),
	        cmocka_unit_test(t_input),         cmocka_unit_test(t_image),
	        cmocka_unit_test(t_libhdf5_crash), cmocka_unit_test(t_tree_encoding),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
