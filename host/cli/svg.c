/*
 * SVG drawing helpers shared by s2ctl's pictures (svg.h): the atomic document, axes with
 * round ticks, polylines, escaped text and legends.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "s2/error.h"
#include "s2/fileio.h"
#include "svg.h"

int svg_open(struct svg *s, const char *path, int width, int height, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	if (strlen(path) + 5 > sizeof s->tmp) {
		snprintf(err, errlen, "%.400s: name too long", path);
		return S2_E_IO;
	}
	snprintf(s->path, sizeof s->path, "%s", path);
	s->width = width;
	s->height = height;
	s->f = s2_file_tmp_open(path, "w", s->tmp, sizeof s->tmp, err, errlen);
	if (!s->f)
		return S2_E_IO;
	fprintf(s->f,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	        "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
	        width, height, width, height);
	return 0;
}

int svg_close(struct svg *s, char *err, size_t errlen)
{
	fputs("</svg>\n", s->f);
	int rc = s2_file_tmp_commit(s->f, s->tmp, s->path, err, errlen);
	s->f = NULL;
	return rc;
}

void svg_abort(struct svg *s)
{
	s2_file_tmp_abort(s->f, s->tmp);
	s->f = NULL;
}

void svg_escape(FILE *f, const char *t)
{
	for (; *t; t++)
		switch (*t) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			/* control characters are not allowed in XML 1.0 */
			fputc((unsigned char)*t < 0x20 ? '?' : *t, f);
		}
}

void svg_text(struct svg *s, double x, double y, const char *anchor, const char *attrs,
              const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(s->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s>", x, y, anchor,
	        attrs && *attrs ? " " : "", attrs ? attrs : "");
	svg_escape(s->f, buf);
	fputs("</text>\n", s->f);
}

const char *svg_colour(unsigned i)
{
	static const char *const c[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
	                                "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
	return c[i % (sizeof c / sizeof c[0])];
}

double svg_nice_step(double range, int ticks)
{
	if (!(range > 0) || !isfinite(range))
		range = 1;
	if (ticks < 1)
		ticks = 1;
	double raw = range / ticks, mag = pow(10, floor(log10(raw)));
	return raw / mag <= 1   ? mag
	       : raw / mag <= 2 ? 2 * mag
	       : raw / mag <= 5 ? 5 * mag
	                        : 10 * mag;
}

double svg_round_up(double *ymax, int ticks)
{
	double top = *ymax > 0 ? *ymax : 1;
	double step = svg_nice_step(top, ticks);
	*ymax = step * ceil(top / step - 1e-9);
	return step;
}

double svg_x(const struct svg_axes *a, double x)
{
	return a->left + a->width * (x - a->xmin) / (a->xmax - a->xmin);
}

double svg_y(const struct svg_axes *a, double y)
{
	return a->top + a->height - a->height * (y - a->ymin) / (a->ymax - a->ymin);
}

/* A tick label without float noise (0.30000000000000004 -> 0.3). */
static void tick_label(char *buf, size_t n, double v, double step)
{
	if (fabs(v) < step * 1e-6)
		v = 0;
	snprintf(buf, n, "%.6g", v);
}

void svg_draw_axes(struct svg *s, const struct svg_axes *a, double xstep, double ystep, bool ygrid,
                   const char *xlabel, const char *ylabel)
{
	double bottom = a->top + a->height, right = a->left + a->width;
	char lab[64];
	if (xstep > 0)
		for (double v = ceil(a->xmin / xstep - 1e-9) * xstep; v <= a->xmax + xstep * 1e-6;
		     v += xstep) {
			double x = svg_x(a, v);
			fprintf(s->f,
			        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			        "stroke=\"black\"/>\n",
			        x, bottom, x, bottom + 5);
			tick_label(lab, sizeof lab, v, xstep);
			svg_text(s, x, bottom + 18, "middle", NULL, "%s", lab);
		}
	if (ystep > 0)
		for (double v = ceil(a->ymin / ystep - 1e-9) * ystep; v <= a->ymax + ystep * 1e-6;
		     v += ystep) {
			double y = svg_y(a, v);
			if (ygrid)
				fprintf(s->f,
				        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				        "stroke=\"#ddd\"/>\n",
				        a->left, y, right, y);
			fprintf(s->f,
			        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			        "stroke=\"black\"/>\n",
			        a->left - 5, y, a->left, y);
			tick_label(lab, sizeof lab, v, ystep);
			svg_text(s, a->left - 8, y + 4, "end", NULL, "%s", lab);
		}
	fprintf(s->f,
	        "<polyline fill=\"none\" stroke=\"black\" points=\"%.1f,%.1f %.1f,%.1f "
	        "%.1f,%.1f\"/>\n",
	        a->left, a->top, a->left, bottom, right, bottom);
	if (xlabel)
		svg_text(s, a->left + a->width / 2, bottom + 36, "middle", NULL, "%s", xlabel);
	if (ylabel) {
		char tr[96];
		snprintf(tr, sizeof tr, "transform=\"rotate(-90 %.1f %.1f)\"", a->left - 50,
		         a->top + a->height / 2);
		svg_text(s, a->left - 50, a->top + a->height / 2, "middle", tr, "%s", ylabel);
	}
}

void svg_polyline_begin(struct svg *s, const char *colour, const char *cls)
{
	fprintf(s->f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"", colour);
	if (cls)
		fprintf(s->f, " class=\"%s\"", cls);
	fputs(" points=\"", s->f);
}

void svg_polyline_point(struct svg *s, double x, double y)
{
	fprintf(s->f, "%.1f,%.1f ", x, y);
}

void svg_polyline_end(struct svg *s)
{
	fputs("\"/>\n", s->f);
}

void svg_legend(struct svg *s, double x, double y, const char *colour, const char *label)
{
	fprintf(s->f,
	        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
	        "stroke-width=\"2\"/>\n",
	        x, y - 4, x + 18, y - 4, colour);
	char fill[48];
	snprintf(fill, sizeof fill, "fill=\"%s\"", colour);
	svg_text(s, x + 24, y, "start", fill, "%s", label);
}
