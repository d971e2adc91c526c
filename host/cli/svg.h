/*
 * Drawing SVG files directly, for s2ctl's pictures (s2ctl plot, s2ctl energy report --svg):
 * a document written atomically (FILE.tmp, then renamed; no file on failure), axes with round
 * ticks mapping data to pixels, polylines, text with XML escaping, legend entries and a
 * colour palette. No state beyond the open document; nothing here knows about runs or energy.
 */
#ifndef S2CTL_SVG_H
#define S2CTL_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/** An SVG document being written. */
struct svg {
	FILE *f;           /**< write elements here (svg_* or fprintf) */
	char path[4096];   /**< the file it becomes */
	char tmp[4096];    /**< where it is written until svg_close */
	int width, height; /**< pixels */
};

/**
 * Start a document of width x height pixels, white background, into path.tmp.
 * @return 0, or S2_E_IO with err set (nothing created).
 */
int svg_open(struct svg *s, const char *path, int width, int height, char *err, size_t errlen);
/** Finish and rename onto s->path. @return 0, or S2_E_IO with err set and no file left. */
int svg_close(struct svg *s, char *err, size_t errlen);
/** Give up: close and remove the temporary file. */
void svg_abort(struct svg *s);

/** Write text with &, <, >, " escaped. */
void svg_escape(FILE *f, const char *text);
/**
 * A text element at (x, y); anchor "start", "middle" or "end"; extra attributes (may be NULL
 * or ""), written as given; the text (printf format) escaped.
 */
__attribute__((format(printf, 6, 7))) void svg_text(struct svg *s, double x, double y,
                                                    const char *anchor, const char *attrs,
                                                    const char *fmt, ...);

/** The i-th colour of a palette of 10 distinct colours (cycles). */
const char *svg_colour(unsigned i);

/**
 * A round tick step for a range: 1, 2 or 5 x 10^k, giving about `ticks` steps (>= 1).
 * A range <= 0 is taken as 1.
 */
double svg_nice_step(double range, int ticks);

/** A plot area: a pixel rectangle and the data range it shows. */
struct svg_axes {
	double left, top, width, height; /**< pixels */
	double xmin, xmax, ymin, ymax;   /**< data; xmax > xmin, ymax > ymin */
};

/** Pixel x and y of a data point. */
double svg_x(const struct svg_axes *a, double x);
double svg_y(const struct svg_axes *a, double y);
/** Round ymax up to a multiple of a round step of about `ticks` steps; returns the step. */
double svg_round_up(double *ymax, int ticks);

/**
 * Draw the frame's bottom and left axes with ticks every xstep / ystep (data units, 0: no
 * ticks on that axis), horizontal grid lines when ygrid, and the axis labels (NULL: none).
 */
void svg_draw_axes(struct svg *s, const struct svg_axes *a, double xstep, double ystep, bool ygrid,
                   const char *xlabel, const char *ylabel);

/** A polyline: begin (stroke colour, class or NULL), points in pixels, end. */
void svg_polyline_begin(struct svg *s, const char *colour, const char *cls);
void svg_polyline_point(struct svg *s, double x, double y);
void svg_polyline_end(struct svg *s);

/** A legend entry: a short line of the colour and the label, at (x, y) (baseline). */
void svg_legend(struct svg *s, double x, double y, const char *colour, const char *label);

#endif
