/* gaze-bench.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prepares generated and given images the way Gaze does before it uploads
 * them, and prints the median time, the peak memory growth, how the time
 * compares with libjpeg-turbo's djpeg decoding the same file at the same
 * scale, how long the main loop stalls while ten photos are prepared at
 * once, and how long the request body that carries them takes to build,
 * and with how much memory, as it is written and as json-glib built it.
 * It measures; it never fails because a target is missed.
 */

#define G_LOG_DOMAIN "gaze-bench"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unistd.h>
#include <jpeglib.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "gaze-image.h"
#include "gaze-request.h"
#include "gaze-request-private.h"

#define DEFAULT_RUNS          7
#define STALL_IMAGES          10
#define STALL_TRIALS          3

/* The targets from the issue. */
#define TARGET_RATIO_LOW      1.15
#define TARGET_RATIO_HIGH     1.30
#define TARGET_RSS_JPEG_MB    32.0
#define TARGET_STALL_MS       50.0

typedef struct
{
  double   median_ms;
  double   min_ms;
  double   djpeg_median_ms;
  double   djpeg_min_ms;
  double   rss_growth_mb;
  gsize    jpeg_size;
  int      width;
  int      height;
  int      source_width;
  int      source_height;
  gboolean ok;
  gboolean have_djpeg;
  gboolean have_rss;
  char     message[256];
} CaseResult;

typedef struct
{
  double   longest_gap_ms;
  double   idle_gap_ms;
  double   total_ms;
  double   rss_growth_mb;
  guint    n_ticks;
  guint    n_prepared;
  guint    n_failed;
  gboolean have_rss;
  gboolean ok;
} StallResult;

typedef struct
{
  const char *path;
  guint       n_images;
} StallData;

typedef struct
{
  double   median_ms;
  double   min_ms;
  /* The peak resident memory growth while one body is built, the body
   * included, in MB of 10^6 bytes like the body's size. */
  double   peak_mb;
} BodyTiming;

typedef struct
{
  double     size_mb;
  BodyTiming written;
  BodyTiming reference;
  gboolean   have_rss;
  double     longest_gap_ms;
  guint      n_ticks;
  gboolean   ok;
  char       message[256];
} BodyResult;

typedef struct
{
  /* A photo file, or NULL for a photo of pure noise. */
  const char *path;
  const char *label;
} BodyData;

static int n_runs = DEFAULT_RUNS;
static char *djpeg_path;

/*
 * Generated photos
 */

static inline guint32
next_random (guint32 *state)
{
  /* xorshift32: fast, and good enough to look like sensor noise. */
  guint32 x = *state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;

  return *state = x;
}

static inline guint8
clamp_channel (int value)
{
  return (guint8) CLAMP (value, 0, 255);
}

/* Something with the statistics of a photo rather than a flat colour: a sky
 * to ground gradient, soft discs, fine texture and sensor noise, so that
 * the JPEG is as large and as slow to decode as a camera's. */
static GdkPixbuf *
make_photo (int      width,
            int      height,
            gboolean has_alpha,
            gboolean noisy,
            guint32  seed)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autofree int *wave_x = g_new (int, width);
  g_autofree int *wave_y = g_new (int, height);
  guint8 *pixels;
  gsize stride;
  guint32 state = seed | 1;
  struct { int x, y, r2, dr, dg, db; } discs[12];

  int n_channels = has_alpha ? 4 : 3;

  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, has_alpha, 8, width, height);
  if (pixbuf == NULL)
    return NULL;

  pixels = gdk_pixbuf_get_pixels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int x = 0; x < width; x++)
    wave_x[x] = (int) (24 * sin (x * 0.011) + 10 * sin (x * 0.17));
  for (int y = 0; y < height; y++)
    wave_y[y] = (int) (20 * cos (y * 0.007) + 8 * sin (y * 0.23));

  for (guint i = 0; i < G_N_ELEMENTS (discs); i++)
    {
      int r = (int) (next_random (&state) % (guint32) (MIN (width, height) / 5)) + 8;

      discs[i].x = (int) (next_random (&state) % (guint32) width);
      discs[i].y = (int) (next_random (&state) % (guint32) height);
      discs[i].r2 = r * r;
      discs[i].dr = (int) (next_random (&state) % 120) - 60;
      discs[i].dg = (int) (next_random (&state) % 120) - 60;
      discs[i].db = (int) (next_random (&state) % 120) - 60;
    }

  for (int y = 0; y < height; y++)
    {
      guint8 *p = pixels + (gsize) y * stride;
      int sky = 170 - (int) (120L * y / height);
      int ground = 40 + (int) (110L * y / height);

      for (int x = 0; x < width; x++)
        {
          guint32 noise = next_random (&state);
          int texture = wave_x[x] + wave_y[y];
          int r = ground + texture / 2;
          int g = 60 + (int) (90L * x / width) + texture / 3;
          int b = sky - texture / 4;

          for (guint i = 0; i < G_N_ELEMENTS (discs); i++)
            {
              int dx = x - discs[i].x;
              int dy = y - discs[i].y;

              if (dx * dx + dy * dy < discs[i].r2)
                {
                  r += discs[i].dr;
                  g += discs[i].dg;
                  b += discs[i].db;
                }
            }

          if (noisy)
            {
              r += (int) (noise & 0x1f) - 16;
              g += (int) ((noise >> 5) & 0x1f) - 16;
              b += (int) ((noise >> 10) & 0x1f) - 16;
            }

          p[0] = clamp_channel (r);
          p[1] = clamp_channel (g);
          p[2] = clamp_channel (b);
          /* A screenshot's shadow: the left edge fades out. */
          if (has_alpha)
            p[3] = clamp_channel (x * 8);
          p += n_channels;
        }
    }

  return g_steal_pointer (&pixbuf);
}

static gboolean
write_photo (const char *path,
             int         width,
             int         height,
             GError    **error)
{
  g_autoptr(GdkPixbuf) pixbuf = make_photo (width, height, FALSE, TRUE,
                                            (guint32) width * 7919u + height);

  if (pixbuf == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Not enough memory for a %d x %d test photo", width, height);
      return FALSE;
    }

  /* A camera's "fine" setting, baseline like most cameras write. */
  return gdk_pixbuf_save (pixbuf, path, "jpeg", error, "quality", "92", NULL);
}

/* A stitched panorama far larger than any photo, written row by row with
 * libjpeg, since it would take gigabytes as a GdkPixbuf: hills in colour
 * ramps with grain, like a landscape. */
static gboolean
write_panorama (const char *path,
                int         width,
                int         height,
                GError    **error)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr error_mgr;
  g_autofree guint8 *row = g_malloc ((gsize) width * 3);
  guint32 state = 12345;
  FILE *file = g_fopen (path, "wb");

  if (file == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not write %s", path);
      return FALSE;
    }

  cinfo.err = jpeg_std_error (&error_mgr);
  jpeg_create_compress (&cinfo);
  jpeg_stdio_dest (&cinfo, file);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 90, TRUE);
  jpeg_start_compress (&cinfo, TRUE);

  while (cinfo.next_scanline < cinfo.image_height)
    {
      int y = (int) cinfo.next_scanline;
      JSAMPROW rows[1] = { row };

      for (int x = 0; x < width; x++)
        {
          int horizon = height / 2 + (int) (height / 6 * sin (x * 0.0007) + 40 * sin (x * 0.013));
          int grain = (int) (next_random (&state) % 24);
          guint8 *p = row + 3 * x;

          if (y < horizon)
            {
              p[0] = (guint8) (90 + y * 80 / height + grain);
              p[1] = (guint8) (140 + y * 60 / height + grain);
              p[2] = (guint8) (220 - grain);
            }
          else
            {
              p[0] = (guint8) (60 + (x / 97) % 40 + grain);
              p[1] = (guint8) (110 + (y - horizon) * 80 / height + grain);
              p[2] = (guint8) (40 + grain);
            }
        }

      jpeg_write_scanlines (&cinfo, rows, 1);
    }

  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);

  return fclose (file) == 0;
}

/* A screenshot-like PNG with transparency: what decodes at full size, four
 * bytes a pixel, whatever the file's size. */
static gboolean
write_png (const char *path,
           int         width,
           int         height,
           GError    **error)
{
  g_autoptr(GdkPixbuf) pixbuf = make_photo (width, height, TRUE, FALSE, 1);

  if (pixbuf == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Not enough memory for a %d x %d test image", width, height);
      return FALSE;
    }

  return gdk_pixbuf_save (pixbuf, path, "png", error, "compression", "1", NULL);
}

/* jpegtran rewrites the same picture as a progressive JPEG, as web exports
 * often are, without decoding it. */
static gboolean
write_progressive (const char *source,
                   const char *path)
{
  g_autofree char *jpegtran = g_find_program_in_path ("jpegtran");
  const char *argv[] = { jpegtran, "-progressive", "-outfile", path, source, NULL };
  int wait_status = 0;

  return jpegtran != NULL &&
         g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, NULL, NULL, &wait_status, NULL) &&
         g_spawn_check_wait_status (wait_status, NULL);
}

/*
 * Measuring
 */

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median_of (double *values,
           guint   n_values)
{
  qsort (values, n_values, sizeof *values, compare_doubles);

  if (n_values % 2 == 1)
    return values[n_values / 2];

  return (values[n_values / 2 - 1] + values[n_values / 2]) / 2;
}

/* Reads a "VmRSS:"-style line of /proc/self/status, in kB, or -1. */
static gint64
read_status_kb (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;

  if ((line = strstr (status, field)) == NULL)
    return -1;

  return g_ascii_strtoll (line + strlen (field), NULL, 10);
}

/* Starts the peak RSS afresh, so that it measures only what follows. */
static gboolean
reset_peak_rss (void)
{
  FILE *f = g_fopen ("/proc/self/clear_refs", "w");
  gboolean done;

  if (f == NULL)
    return FALSE;

  done = fputs ("5", f) >= 0;
  done = fclose (f) == 0 && done;

  return done;
}

static double
time_djpeg (const char *scale,
            const char *path)
{
  const char *argv[] = { djpeg_path, "-scale", scale, "-outfile", "/dev/null", path, NULL };
  g_autoptr(GError) error = NULL;
  int wait_status = 0;
  double start = now_ms ();

  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &wait_status, &error) ||
      !g_spawn_check_wait_status (wait_status, NULL))
    return -1;

  return now_ms () - start;
}

/* Runs in a child of its own, so that its peak memory is its own. */
static void
measure_case (const char *path,
              GazeDetail  detail,
              gboolean    with_djpeg,
              CaseResult *result)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree double *times = g_new0 (double, n_runs);
  g_autofree double *djpeg_times = g_new0 (double, n_runs);
  const char *scale = detail == GAZE_DETAIL_LOW ? "1/8" : "1/4";
  gint64 baseline_kb;
  gint64 peak_kb;

  memset (result, 0, sizeof *result);
  result->have_rss = reset_peak_rss ();
  baseline_kb = read_status_kb ("VmRSS:");

  /* One run to warm the page cache and the allocator, then the timed ones;
   * djpeg and Gaze take turns, so that both see the same machine. */
  for (int run = -1; run < n_runs; run++)
    {
      g_autoptr(GazeImage) image = NULL;
      g_autoptr(GError) error = NULL;
      double start = now_ms ();

      image = gaze_image_prepare_file (file, detail, NULL, &error);
      if (image == NULL)
        {
          g_strlcpy (result->message, error->message, sizeof result->message);
          return;
        }

      if (run >= 0)
        times[run] = now_ms () - start;

      result->width = gaze_image_get_width (image);
      result->height = gaze_image_get_height (image);
      result->source_width = gaze_image_get_source_width (image);
      result->source_height = gaze_image_get_source_height (image);
      result->jpeg_size = g_bytes_get_size (gaze_image_get_jpeg (image));

      if (with_djpeg && djpeg_path != NULL)
        {
          double djpeg_ms = time_djpeg (scale, path);

          if (djpeg_ms < 0)
            with_djpeg = FALSE;
          else if (run >= 0)
            djpeg_times[run] = djpeg_ms;
        }
    }

  peak_kb = read_status_kb ("VmHWM:");
  result->have_rss = result->have_rss && baseline_kb >= 0 && peak_kb >= 0;
  if (result->have_rss)
    result->rss_growth_mb = MAX (0, peak_kb - baseline_kb) / 1024.0;

  result->min_ms = times[0];
  for (int i = 0; i < n_runs; i++)
    result->min_ms = MIN (result->min_ms, times[i]);
  result->median_ms = median_of (times, n_runs);

  if (with_djpeg && djpeg_path != NULL)
    {
      result->have_djpeg = TRUE;
      result->djpeg_min_ms = djpeg_times[0];
      for (int i = 0; i < n_runs; i++)
        result->djpeg_min_ms = MIN (result->djpeg_min_ms, djpeg_times[i]);
      result->djpeg_median_ms = median_of (djpeg_times, n_runs);
    }

  result->ok = TRUE;
}

/* Runs @func in a forked child and copies its result back through a pipe.
 * The parent has no threads when it forks, so the child may use GLib. */
static gboolean
run_in_child (void     (*func) (gpointer data, gpointer result),
              gpointer   data,
              gpointer   result,
              gsize      result_size)
{
  int fds[2];
  pid_t pid;
  gsize got = 0;
  int wait_status;

  if (pipe (fds) != 0)
    return FALSE;

  fflush (stdout);
  fflush (stderr);

  if ((pid = fork ()) < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return FALSE;
    }

  if (pid == 0)
    {
      const guint8 *p = result;
      gsize left = result_size;

      close (fds[0]);
      func (data, result);
      while (left > 0)
        {
          ssize_t n = write (fds[1], p, left);

          if (n <= 0 && errno != EINTR)
            _exit (1);
          if (n > 0)
            {
              p += n;
              left -= n;
            }
        }
      _exit (0);
    }

  close (fds[1]);
  while (got < result_size)
    {
      ssize_t n = read (fds[0], (guint8 *) result + got, result_size - got);

      if (n == 0 || (n < 0 && errno != EINTR))
        break;
      if (n > 0)
        got += n;
    }
  close (fds[0]);

  while (waitpid (pid, &wait_status, 0) < 0 && errno == EINTR)
    ;

  if (WIFSIGNALED (wait_status))
    g_printerr ("gaze-bench: a measurement died of signal %d\n", WTERMSIG (wait_status));

  return got == result_size;
}

typedef struct
{
  const char *path;
  GazeDetail  detail;
  gboolean    with_djpeg;
} CaseData;

static void
measure_case_in_child (gpointer data,
                       gpointer result)
{
  CaseData *c = data;

  measure_case (c->path, c->detail, c->with_djpeg, result);
}

/*
 * The main loop while ten photos are prepared
 */

typedef struct
{
  GMainLoop *loop;
  gint64     last_tick;
  gint64     longest_gap;
  guint      n_ticks;
  guint      n_pending;
  guint      n_prepared;
  guint      n_failed;
} Stall;

static gboolean
on_tick (gpointer user_data)
{
  Stall *stall = user_data;
  gint64 now = g_get_monotonic_time ();

  if (stall->last_tick != 0)
    stall->longest_gap = MAX (stall->longest_gap, now - stall->last_tick);
  stall->last_tick = now;
  stall->n_ticks++;

  return G_SOURCE_CONTINUE;
}

static void
on_stall_prepared (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Stall *stall = user_data;
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (G_IS_ASYNC_RESULT (result));
  g_assert (stall != NULL);

  image = gaze_image_prepare_finish (result, &error);
  if (image != NULL)
    stall->n_prepared++;
  else
    stall->n_failed++;

  if (--stall->n_pending == 0)
    g_main_loop_quit (stall->loop);
}

static gboolean
on_idle_timeout (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
measure_stall_in_child (gpointer data,
                        gpointer result)
{
  StallData *stall_data = data;
  StallResult *out = result;
  g_autoptr(GFile) file = g_file_new_for_path (stall_data->path);
  Stall stall = { 0 };
  guint tick_id;
  double start;
  gint64 baseline_kb;
  gint64 peak_kb;

  memset (out, 0, sizeof *out);
  stall.loop = g_main_loop_new (NULL, FALSE);

  /* First the loop alone for half a second: the timer's own jitter. */
  tick_id = g_timeout_add (1, on_tick, &stall);
  g_timeout_add (500, on_idle_timeout, stall.loop);
  g_main_loop_run (stall.loop);
  out->idle_gap_ms = stall.longest_gap / 1000.0;

  stall.longest_gap = 0;
  stall.last_tick = 0;
  stall.n_ticks = 0;
  stall.n_pending = stall_data->n_images;

  out->have_rss = reset_peak_rss ();
  baseline_kb = read_status_kb ("VmRSS:");

  start = now_ms ();
  for (guint i = 0; i < stall_data->n_images; i++)
    gaze_image_prepare_file_async (file, GAZE_DETAIL_HIGH, NULL, on_stall_prepared, &stall);
  g_main_loop_run (stall.loop);

  out->total_ms = now_ms () - start;
  peak_kb = read_status_kb ("VmHWM:");
  out->have_rss = out->have_rss && baseline_kb >= 0 && peak_kb >= 0;
  if (out->have_rss)
    out->rss_growth_mb = MAX (0, peak_kb - baseline_kb) / 1024.0;
  out->longest_gap_ms = stall.longest_gap / 1000.0;
  out->n_ticks = stall.n_ticks;
  out->n_prepared = stall.n_prepared;
  out->n_failed = stall.n_failed;
  out->ok = TRUE;

  g_source_remove (tick_id);
  g_main_loop_unref (stall.loop);
}

/*
 * The request body that carries them
 */

static void
on_body_built (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Stall *stall = user_data;
  g_autoptr(GBytes) body = NULL;

  g_assert (GAZE_IS_REQUEST (object));
  g_assert (G_IS_ASYNC_RESULT (result));
  g_assert (stall != NULL);

  body = gaze_request_to_bytes_finish (GAZE_REQUEST (object), result, NULL);
  if (body != NULL)
    stall->n_prepared++;
  else
    stall->n_failed++;

  g_main_loop_quit (stall->loop);
}

/* Random pixels at the largest size a high-detail photo keeps: the largest
 * JPEG that a photo makes, so the largest body ten of them make. */
static GazeImage *
make_noise_image (GError **error)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 2000, 768);
  g_autoptr(GBytes) bytes = NULL;
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  guint32 state = 0x9e3779b9;
  char *data;
  gsize size;

  for (int y = 0; y < 768; y++)
    for (int x = 0; x < 2000 * 3; x++)
      pixels[y * rowstride + x] = next_random (&state) & 0xff;

  if (!gdk_pixbuf_save_to_buffer (pixbuf, &data, &size, "jpeg", error, "quality", "95", NULL))
    return NULL;
  bytes = g_bytes_new_take (data, size);

  return gaze_image_prepare_bytes (bytes, "noise.jpg", GAZE_DETAIL_HIGH, NULL, error);
}

/* How much the resident memory grows while @build builds one body,
 * the body included. What the allocator holds free is given back first,
 * so that the build cannot reuse it unseen. */
static gboolean
measure_body_peak (GazeRequest *request,
                   GBytes      *(*build) (GazeRequest *request),
                   double      *peak_mb)
{
  g_autoptr(GBytes) body = NULL;
  gint64 baseline_kb;
  gint64 peak_kb;

#ifdef __GLIBC__
  malloc_trim (0);
#endif

  if (!reset_peak_rss ())
    return FALSE;
  baseline_kb = read_status_kb ("VmRSS:");
  body = build (request);
  peak_kb = read_status_kb ("VmHWM:");

  if (baseline_kb < 0 || peak_kb < 0)
    return FALSE;

  *peak_mb = MAX (0, peak_kb - baseline_kb) * 1024 / 1e6;
  return TRUE;
}

static void
time_body (GazeRequest *request,
           GBytes      *(*build) (GazeRequest *request),
           BodyTiming  *timing,
           double      *size_mb)
{
  g_autofree double *times = g_new0 (double, n_runs);

  for (int run = -1; run < n_runs; run++)
    {
      g_autoptr(GBytes) body = NULL;
      double start = now_ms ();

      body = build (request);
      if (run >= 0)
        times[run] = now_ms () - start;
      *size_mb = g_bytes_get_size (body) / 1e6;
    }

  timing->min_ms = times[0];
  for (int i = 0; i < n_runs; i++)
    timing->min_ms = MIN (timing->min_ms, times[i]);
  timing->median_ms = median_of (times, n_runs);
}

/* Ten photos at high detail, the most one request takes, as the turn after
 * them sends them again. The body is timed as built alone, as it is
 * written now and as json-glib built it before, with the peak memory of
 * each; then it is built in a worker, as the client has it built, while
 * the main loop ticks.
 */
static void
measure_body_in_child (gpointer data,
                       gpointer result)
{
  const BodyData *body_data = data;
  BodyResult *out = result;
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GazeRequest) request = gaze_request_new (NULL);
  g_autoptr(GPtrArray) images = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  Stall stall = { 0 };
  guint tick_id;

  memset (out, 0, sizeof *out);

  if (body_data->path != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (body_data->path);

      image = gaze_image_prepare_file (file, GAZE_DETAIL_HIGH, NULL, &error);
    }
  else
    {
      image = make_noise_image (&error);
    }

  if (image == NULL)
    {
      g_strlcpy (out->message, error->message, sizeof out->message);
      return;
    }

  for (guint i = 0; i < GAZE_MAX_IMAGES_PER_REQUEST; i++)
    g_ptr_array_add (images, image);
  gaze_request_add_user_message (request, "What is on these photos?", images);
  gaze_request_add_assistant_message (request, "Ten views of the same generated scene.");
  gaze_request_add_user_message (request, "Which one is the sharpest?", NULL);

  /* Memory first, in a process that has built no body yet. */
  out->have_rss = measure_body_peak (request, gaze_request_to_bytes_reference,
                                     &out->reference.peak_mb) &&
                  measure_body_peak (request, gaze_request_to_bytes, &out->written.peak_mb);

  time_body (request, gaze_request_to_bytes_reference, &out->reference, &out->size_mb);
  time_body (request, gaze_request_to_bytes, &out->written, &out->size_mb);

  stall.loop = g_main_loop_new (NULL, FALSE);
  tick_id = g_timeout_add (1, on_tick, &stall);
  stall.last_tick = g_get_monotonic_time ();
  gaze_request_to_bytes_async (request, NULL, on_body_built, &stall);
  g_main_loop_run (stall.loop);
  g_source_remove (tick_id);
  g_main_loop_unref (stall.loop);

  out->longest_gap_ms = stall.longest_gap / 1000.0;
  out->n_ticks = stall.n_ticks;
  out->ok = stall.n_prepared == 1;
}

static void
print_body_timing (const char       *label,
                   const BodyResult *body,
                   const BodyTiming *timing)
{
  g_print ("  %-18s %6.2f ms (min %6.2f), %5.2f ms per MB", label,
           timing->median_ms, timing->min_ms, timing->median_ms / body->size_mb);

  if (body->have_rss)
    g_print (", peak memory +%5.1f MB (%.1fx the body)",
             timing->peak_mb, timing->peak_mb / body->size_mb);
  g_print ("\n");
}

static void
run_body (const BodyData *body_data)
{
  BodyResult body = { 0 };

  if (!run_in_child (measure_body_in_child, (gpointer) body_data, &body, sizeof body) || !body.ok)
    {
      g_print ("%s:\n  the measurement did not finish%s%s\n", body_data->label,
               body.message[0] ? ": " : "", body.message);
      return;
    }

  g_print ("%s, %.1f MB:\n", body_data->label, body.size_mb);
  print_body_timing ("written as it is", &body, &body.written);
  print_body_timing ("json-glib, before", &body, &body.reference);
  g_print ("  %.1fx as fast; built in a worker, longest gap between 1 ms ticks %.1f ms "
           "(%u ticks)\n",
           body.reference.median_ms / body.written.median_ms,
           body.longest_gap_ms, body.n_ticks);
}

/*
 * Printing
 */

static const char *
verdict (gboolean met)
{
  return met ? "met" : "MISSED";
}

static void
print_case (const char       *label,
            GazeDetail        detail,
            const CaseResult *result,
            gboolean          is_jpeg,
            gboolean          with_djpeg,
            gboolean          with_target)
{
  g_autofree char *rss = NULL;

  if (!result->ok)
    {
      g_print ("%-22s %-4s  failed: %s\n", label, gaze_detail_to_string (detail),
               result->message[0] ? result->message : "the measurement did not finish");
      return;
    }

  if (result->have_rss)
    rss = g_strdup_printf ("%7.1f MB", result->rss_growth_mb);
  else
    rss = g_strdup ("    n/a   ");

  g_print ("%-22s %-4s  %5dx%-5d -> %4dx%-4d  %8.1f ms (min %7.1f)  RSS +%s  %7.1f kB",
           label, gaze_detail_to_string (detail),
           result->source_width, result->source_height, result->width, result->height,
           result->median_ms, result->min_ms, rss, result->jpeg_size / 1024.0);

  if (is_jpeg && result->have_rss)
    g_print ("  [RSS <= %.0f MB: %s]", TARGET_RSS_JPEG_MB,
             verdict (result->rss_growth_mb <= TARGET_RSS_JPEG_MB));
  g_print ("\n");

  if (with_djpeg)
    {
      double target = detail == GAZE_DETAIL_LOW ? TARGET_RATIO_LOW : TARGET_RATIO_HIGH;

      if (result->have_djpeg)
        {
          double ratio = result->median_ms / result->djpeg_median_ms;

          g_print ("%-22s %-4s  djpeg -scale %s: %8.1f ms (min %7.1f)  ratio Gaze/djpeg %.2f",
                   "", "", detail == GAZE_DETAIL_LOW ? "1/8" : "1/4",
                   result->djpeg_median_ms, result->djpeg_min_ms, ratio);
          if (with_target)
            g_print ("  [<= %.2f: %s]", target, verdict (ratio <= target));
          g_print ("\n");
        }
      else
        g_print ("%-22s %-4s  djpeg is not installed (libjpeg-turbo-progs): "
                 "no ratio measured\n", "", "");
    }
}

static gboolean
has_jpeg_signature (const char *path)
{
  guint8 head[2] = { 0 };
  FILE *f = g_fopen (path, "rb");
  gboolean is_jpeg;

  if (f == NULL)
    return FALSE;
  is_jpeg = fread (head, 1, 2, f) == 2 && head[0] == 0xff && head[1] == 0xd8;
  fclose (f);

  return is_jpeg;
}

static void
run_file (const char *label,
          const char *path,
          gboolean    with_djpeg,
          gboolean    with_target)
{
  static const GazeDetail details[] = { GAZE_DETAIL_LOW, GAZE_DETAIL_HIGH };
  gboolean is_jpeg = has_jpeg_signature (path);

  for (guint i = 0; i < G_N_ELEMENTS (details); i++)
    {
      CaseData data = { path, details[i], with_djpeg && is_jpeg };
      CaseResult result = { 0 };

      if (!run_in_child (measure_case_in_child, &data, &result, sizeof result))
        result.ok = FALSE;
      print_case (label, details[i], &result, is_jpeg, data.with_djpeg, with_target);
    }
}

static gboolean
report_made (const char *what,
             const char *path,
             double      start,
             gboolean    made,
             GError     *error)
{
  GStatBuf st;

  if (!made)
    {
      g_printerr ("gaze-bench: could not make %s: %s\n", what,
                  error != NULL ? error->message : "jpegtran failed");
      return FALSE;
    }

  if (g_stat (path, &st) == 0)
    g_print ("Made %s, %.1f MB (%.0f ms)\n", what, st.st_size / 1e6, now_ms () - start);

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *photo_24 = NULL;
  g_autofree char *progressive_24 = NULL;
  g_autofree char *photo_100 = NULL;
  g_autofree char *progressive_100 = NULL;
  g_autofree char *panorama = NULL;
  g_autofree char *png_50 = NULL;
  g_auto(GStrv) files = NULL;
  gboolean quick = FALSE;
  gboolean have_progressive;
  gboolean have_progressive_100 = FALSE;
  StallResult stall = { 0 };
  g_autofree char *body_label_24 = NULL;
  g_autofree char *body_label_noise = NULL;
  BodyData body_24 = { NULL };
  BodyData body_noise = { NULL };
  StallData stall_24 = { NULL, STALL_IMAGES };
  StallData stall_png = { NULL, 4 };
  double worst_gap_ms = 0;
  double start;
  const GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &n_runs, "Timed runs per case (at least 5)", "N" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick,
      "Leave out the 100 MP JPEGs, the panorama and the 50 MP PNG", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "[FILE...]" },
    { NULL }
  };

  context = g_option_context_new ("[FILE...] - time Gaze's image preparation");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("gaze-bench: %s\n", error->message);
      return 2;
    }
  n_runs = MAX (n_runs, 5);

  djpeg_path = g_find_program_in_path ("djpeg");

  if (!(dir = g_dir_make_tmp ("gaze-bench-XXXXXX", &error)))
    {
      g_printerr ("gaze-bench: %s\n", error->message);
      return 1;
    }

  photo_24 = g_build_filename (dir, "photo-24mp.jpg", NULL);
  progressive_24 = g_build_filename (dir, "photo-24mp-progressive.jpg", NULL);
  photo_100 = g_build_filename (dir, "photo-100mp.jpg", NULL);
  progressive_100 = g_build_filename (dir, "photo-100mp-progressive.jpg", NULL);
  panorama = g_build_filename (dir, "panorama-480mp.jpg", NULL);
  png_50 = g_build_filename (dir, "screenshot-50mp.png", NULL);
  stall_24.path = photo_24;
  stall_png.path = png_50;

  g_print ("gaze-bench: %d timed runs per case, median shown; RSS is the peak resident\n"
           "memory growth of a fresh child process preparing that image.\n"
           "djpeg times include starting a process (about 1 ms), which flatters Gaze a little.\n"
           "%u CPUs, gdk-pixbuf %s, djpeg %s\n\n",
           n_runs, g_get_num_processors (), GDK_PIXBUF_VERSION,
           djpeg_path ? djpeg_path : "not installed (libjpeg-turbo-progs): no ratios");

  start = now_ms ();
  if (!report_made ("a 6000x4000 photo at quality 92", photo_24, start,
                    write_photo (photo_24, 6000, 4000, &error), error))
    return 1;

  start = now_ms ();
  have_progressive = write_progressive (photo_24, progressive_24);
  if (have_progressive)
    report_made ("the same photo as a progressive JPEG", progressive_24, start, TRUE, NULL);

  if (!quick)
    {
      start = now_ms ();
      if (!report_made ("a 12240x8170 (100 MP) photo at quality 92", photo_100, start,
                        write_photo (photo_100, 12240, 8170, &error), error))
        return 1;

      start = now_ms ();
      have_progressive_100 = write_progressive (photo_100, progressive_100);
      if (have_progressive_100)
        report_made ("the same 100 MP photo as a progressive JPEG", progressive_100, start,
                     TRUE, NULL);

      start = now_ms ();
      if (!report_made ("a 40000x12000 (480 MP) panorama at quality 90", panorama, start,
                        write_panorama (panorama, 40000, 12000, &error), error))
        return 1;

      /* Just under 50 MP, the most Gaze takes from a PNG. */
      start = now_ms ();
      if (!report_made ("an 8660x5773 (50 MP) PNG with transparency", png_50, start,
                        write_png (png_50, 8660, 5773, &error), error))
        return 1;
    }
  g_print ("\n");

  run_file ("24 MP JPEG", photo_24, TRUE, TRUE);

  if (!quick)
    {
      run_file ("100 MP JPEG", photo_100, FALSE, FALSE);
      run_file ("480 MP panorama", panorama, FALSE, FALSE);
      run_file ("50 MP PNG, alpha", png_50, FALSE, FALSE);
    }

  if (have_progressive)
    {
      /* djpeg keeps the coefficients in memory (72 MB here); Gaze keeps
       * them in a temporary file, so it does more work for less memory. */
      g_print ("A progressive JPEG needs all its coefficients until the last scan; Gaze keeps\n"
               "them in a temporary file beyond 16 MB, djpeg in memory.\n");
      run_file ("24 MP progressive", progressive_24, TRUE, FALSE);
      if (have_progressive_100)
        run_file ("100 MP progressive", progressive_100, FALSE, FALSE);
    }

  for (guint i = 0; files != NULL && files[i] != NULL; i++)
    {
      g_autofree char *label = g_path_get_basename (files[i]);

      run_file (label, files[i], FALSE, FALSE);
    }

  /* Other programs can delay the main thread too, so it is measured a few
   * times and the worst counts. */
  g_print ("\nMain loop while %u x 24 MP photos are prepared at once (high detail), %d trials:\n",
           stall_24.n_images, STALL_TRIALS);
  for (int trial = 0; trial < STALL_TRIALS; trial++)
    {
      if (run_in_child (measure_stall_in_child, &stall_24, &stall, sizeof stall) && stall.ok)
        {
          worst_gap_ms = MAX (worst_gap_ms, stall.longest_gap_ms);
          g_print ("  longest gap between 1 ms ticks %5.1f ms (idle loop alone %.1f ms); "
                   "%u prepared, %u failed in %.0f ms, RSS +%.1f MB\n",
                   stall.longest_gap_ms, stall.idle_gap_ms, stall.n_prepared, stall.n_failed,
                   stall.total_ms, stall.rss_growth_mb);
        }
      else
        {
          worst_gap_ms = G_MAXDOUBLE;
          g_print ("  the measurement did not finish\n");
        }
    }
  g_print ("  worst %.1f ms [<= %.0f ms: %s]\n",
           worst_gap_ms, TARGET_STALL_MS, verdict (worst_gap_ms <= TARGET_STALL_MS));

  /* Peak memory is that of a fresh child building one body, the body
   * included: about its size is the least it can be. */
  g_print ("\n");
  body_label_24 = g_strdup_printf ("Request body with those %u photos, sent again with the "
                                   "next question", GAZE_MAX_IMAGES_PER_REQUEST);
  body_label_noise = g_strdup_printf ("Request body with %u photos of pure noise, the largest "
                                      "a high-detail photo makes", GAZE_MAX_IMAGES_PER_REQUEST);
  body_24.path = photo_24;
  body_24.label = body_label_24;
  body_noise.label = body_label_noise;
  run_body (&body_24);
  run_body (&body_noise);

  /* Full-size decodes share a memory budget, so four of the largest PNGs
   * dropped together do not all decode at once. */
  if (!quick)
    {
      if (run_in_child (measure_stall_in_child, &stall_png, &stall, sizeof stall) && stall.ok)
        g_print ("\n%u x 50 MP PNG prepared at once: RSS +%.1f MB, all done in %.0f ms, "
                 "longest main-loop gap %.1f ms, %u failed\n",
                 stall_png.n_images, stall.rss_growth_mb, stall.total_ms, stall.longest_gap_ms,
                 stall.n_failed);
      else
        g_print ("\nThe measurement with four PNGs did not finish.\n");
    }

  g_remove (photo_24);
  g_remove (progressive_24);
  g_remove (photo_100);
  g_remove (progressive_100);
  g_remove (panorama);
  g_remove (png_50);
  g_rmdir (dir);

  return 0;
}
