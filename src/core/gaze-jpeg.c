/* gaze-jpeg.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-jpeg"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <jpeglib.h>
#include <jerror.h>

#include "gaze-jpeg-private.h"

/*
 * Why Gaze decodes JPEGs itself rather than through GdkPixbufLoader:
 *
 * A progressive JPEG is sent as several scans over the whole picture, so
 * libjpeg keeps every DCT coefficient of the picture until the last scan:
 * 2 bytes a sample, 3 bytes a pixel for the usual 4:2:0 photo, 72 MB for
 * 24 megapixels and 300 MB for 100, however small the output. libjpeg can
 * keep those coefficients in a temporary file and only a few rows of blocks
 * in memory, but Debian builds it without that "backing store". Its memory
 * manager is a table of methods, though, so the three that hold the
 * coefficients (request, realize and access a "virtual block array") are
 * replaced here by ones that keep large arrays in an unlinked file in the
 * cache directory. The kernel keeps that file in its page cache while there
 * is room, and can write it out when there is not; the process itself grows
 * by a few rows of blocks.
 *
 * It also makes JPEG, the format nearly every photo comes in, decode the
 * same way on every system, whatever image loaders gdk-pixbuf has.
 */

/* Coefficients up to this size stay in memory: a progressive photo of
 * about 5 megapixels. */
#define DEFAULT_MEMORY_LIMIT  ((gsize) 16 * 1024 * 1024)

/* Without a file, coefficients up to this size are kept in memory anyway,
 * as libjpeg itself would keep them; beyond it the picture is refused. */
#define MEMORY_FALLBACK_LIMIT ((guint64) 256 * 1024 * 1024)

static gsize memory_limit = DEFAULT_MEMORY_LIMIT;

/* A progressive photo has about ten scans. Each scan is a pass over all the
 * coefficients, so a small file of thousands of them would keep a worker
 * busy for an hour. libjpeg-turbo 3 refuses more than 500 by default too. */
#define MAX_SCANS 500

typedef enum
{
  STATE_HEADER,
  STATE_START,
  STATE_SCANLINES,
  STATE_FINISH,
  STATE_DONE,
  STATE_FAILED,
} State;

/* libjpeg declares this type but leaves it to its memory manager; this one
 * is ours. */
struct jvirt_barray_control
{
  JBLOCKARRAY       rows;           /* The rows in memory: all, or a window. */
  JDIMENSION        n_rows;
  JDIMENSION        blocks_per_row;
  JDIMENSION        max_access;
  JDIMENSION        window_rows;    /* How many rows fit in memory. */
  JDIMENSION        first_row;      /* The first row the window holds... */
  JDIMENSION        loaded_rows;    /* ...and how many. */
  boolean           pre_zero;
  gboolean          in_file;
  gboolean          dirty;
  goffset           offset;         /* Where the array starts in the file. */
  jvirt_barray_ptr  next;
};

struct _GazeJpeg
{
  struct jpeg_decompress_struct  cinfo;
  struct jpeg_error_mgr          error_mgr;
  struct jpeg_source_mgr         source;
  jmp_buf                        jump;

  /* The memory manager's own methods, which ours hand over to. */
  jvirt_barray_ptr (*request_virt_barray) (j_common_ptr, int, boolean,
                                           JDIMENSION, JDIMENSION, JDIMENSION);
  void             (*realize_virt_arrays) (j_common_ptr);
  void             (*free_pool)           (j_common_ptr, int);

  jvirt_barray_ptr  arrays;
  int               fd;
  gboolean          used_file;

  GazeJpegSizeFunc  size_func;
  gpointer          user_data;

  /* Called by libjpeg at every row of blocks: a file of endless scans, or
   * a cancelled preparation, stops there. */
  struct jpeg_progress_mgr progress;
  GCancellable     *cancellable;
  gboolean          cancelled;
  gboolean          too_many_scans;

  /* Bytes given but not yet consumed by libjpeg, and how many of the next
   * ones it asked to skip. */
  GByteArray       *input;
  gsize             skip;
  gboolean          at_end;

  State             state;
  gboolean          refused;
  gboolean          cmyk;
  int               orientation;
  int               fit_width;
  int               fit_height;
  GdkPixbuf        *pixbuf;
  JSAMPARRAY        cmyk_row;

  /* Averaging blocks of pixels, for pictures still twice the fit or more
   * after libjpeg's scaling: a row as decoded, and the sums of the current
   * blocks. */
  JDIMENSION        block_width;
  JDIMENSION        block_height;
  JSAMPARRAY        row;
  guint64          *sums;
  JDIMENSION        summed_rows;
  int               reduced_rows;
};

void
gaze_jpeg_set_memory_limit (gsize limit)
{
  memory_limit = limit;
}

gboolean
gaze_jpeg_used_file (GazeJpeg *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->used_file;
}

/*
 * Errors: libjpeg reports them by calling error_exit, which must not return.
 */

static void
on_error_exit (j_common_ptr cinfo)
{
  GazeJpeg *self = cinfo->client_data;

  longjmp (self->jump, 1);
}

static void
on_output_message (j_common_ptr cinfo)
{
  char message[JMSG_LENGTH_MAX];

  /* Warnings about damaged data would go to stderr; the decoder's caller
   * tells truncated files apart by itself. */
  cinfo->err->format_message (cinfo, message);
  g_debug ("libjpeg: %s", message);
}

static void
set_error_from_libjpeg (GazeJpeg  *self,
                        GError   **error)
{
  char message[JMSG_LENGTH_MAX];
  int code = self->error_mgr.msg_code;

  self->error_mgr.format_message ((j_common_ptr) &self->cinfo, message);
  g_debug ("libjpeg stopped: %s", message);

  if (self->cancelled)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
      return;
    }

  if (self->too_many_scans)
    {
      g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                   "More than %d scans", MAX_SCANS);
      return;
    }

  /* The temporary file could not be made or written: the disk is full,
   * most likely. */
  if (code == JERR_TFILE_CREATE || code == JERR_TFILE_READ ||
      code == JERR_TFILE_SEEK || code == JERR_TFILE_WRITE)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, message);
  else if (code == JERR_OUT_OF_MEMORY)
    g_set_error_literal (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY, message);
  else
    g_set_error_literal (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE, message);
}

static G_NORETURN void
fail (GazeJpeg *self,
      int       code)
{
  self->error_mgr.msg_code = code;
  memset (&self->error_mgr.msg_parm, 0, sizeof self->error_mgr.msg_parm);
  self->error_mgr.error_exit ((j_common_ptr) &self->cinfo);
  g_assert_not_reached ();
}

/*
 * The coefficient store.
 */

static gsize
array_row_size (jvirt_barray_ptr array)
{
  return (gsize) array->blocks_per_row * sizeof (JBLOCK);
}

static jvirt_barray_ptr
request_virt_barray (j_common_ptr cinfo,
                     int          pool_id,
                     boolean      pre_zero,
                     JDIMENSION   blocks_per_row,
                     JDIMENSION   n_rows,
                     JDIMENSION   max_access)
{
  GazeJpeg *self = cinfo->client_data;
  jvirt_barray_ptr array;

  /* Only arrays that live as long as one image are asked for. */
  if (pool_id != JPOOL_IMAGE)
    fail (self, JERR_BAD_POOL_ID);

  array = cinfo->mem->alloc_small (cinfo, pool_id, sizeof *array);
  memset (array, 0, sizeof *array);
  array->n_rows = n_rows;
  array->blocks_per_row = blocks_per_row;
  array->max_access = max_access;
  array->pre_zero = pre_zero;
  array->next = self->arrays;
  self->arrays = array;

  return array;
}

static int
open_backing_file (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "gaze", NULL);
  g_autofree char *path = NULL;
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_debug ("Could not create “%s”: %s", dir, g_strerror (errno));
      g_free (dir);
      dir = g_strdup (g_get_tmp_dir ());
    }

#ifdef O_TMPFILE
  /* A file without a name is gone when it is closed, even after a crash. */
  fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
#endif

  path = g_build_filename (dir, "coefficients-XXXXXX", NULL);
  fd = g_mkstemp_full (path, O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    g_unlink (path);
  else
    g_debug ("Could not create a file in “%s”: %s", dir, g_strerror (errno));

  return fd;
}

static void
close_backing_file (GazeJpeg *self)
{
  if (self->fd >= 0)
    {
      g_close (self->fd, NULL);
      self->fd = -1;
    }
}

static void
realize_virt_arrays (j_common_ptr cinfo)
{
  GazeJpeg *self = cinfo->client_data;
  guint64 total = 0;
  goffset offset = 0;

  self->realize_virt_arrays (cinfo);

  for (jvirt_barray_ptr array = self->arrays; array != NULL; array = array->next)
    total += (guint64) array->n_rows * array_row_size (array);

  if (total > memory_limit && self->fd < 0)
    {
      self->fd = open_backing_file ();
      if (self->fd < 0 && total > MEMORY_FALLBACK_LIMIT)
        fail (self, JERR_TFILE_CREATE);
      if (self->fd >= 0 && ftruncate (self->fd, (off_t) total) != 0)
        fail (self, JERR_TFILE_WRITE);
    }

  g_debug ("%" G_GUINT64_FORMAT " bytes of coefficients, kept %s",
           total, self->fd >= 0 ? "in a file" : "in memory");

  for (jvirt_barray_ptr array = self->arrays; array != NULL; array = array->next)
    {
      gsize row_size = array_row_size (array);
      guint8 *block;

      if (array->rows != NULL)
        continue;

      /* Without a file, everything is kept in memory, as libjpeg would. */
      array->in_file = self->fd >= 0;
      array->window_rows = array->in_file ? MIN (array->max_access, array->n_rows) : array->n_rows;
      array->offset = offset;
      offset += (goffset) array->n_rows * row_size;

      if (array->window_rows == 0 || row_size == 0)
        continue;

      /* One block, so that a window is read and written in one call. */
      if ((guint64) array->window_rows * row_size > G_MAXSIZE / 2)
        fail (self, JERR_OUT_OF_MEMORY);

      block = cinfo->mem->alloc_large (cinfo, JPOOL_IMAGE, (gsize) array->window_rows * row_size);
      array->rows = cinfo->mem->alloc_small (cinfo, JPOOL_IMAGE,
                                             array->window_rows * sizeof (JBLOCKROW));
      for (JDIMENSION i = 0; i < array->window_rows; i++)
        array->rows[i] = (JBLOCKROW) (block + (gsize) i * row_size);

      if (!array->in_file)
        {
          if (array->pre_zero)
            memset (block, 0, (gsize) array->window_rows * row_size);
          array->loaded_rows = array->n_rows;
        }
    }

  self->used_file = self->used_file || self->fd >= 0;
}

static void
window_transfer (GazeJpeg         *self,
                 jvirt_barray_ptr  array,
                 gboolean          write)
{
  gsize row_size = array_row_size (array);
  gsize length = (gsize) array->loaded_rows * row_size;
  goffset position = array->offset + (goffset) array->first_row * row_size;
  guint8 *data = (guint8 *) array->rows[0];
  gsize done = 0;

  while (done < length)
    {
      gssize n;

      if (write)
        n = pwrite (self->fd, data + done, length - done, (off_t) (position + done));
      else
        n = pread (self->fd, data + done, length - done, (off_t) (position + done));

      if (n < 0 && errno == EINTR)
        continue;

      if (n < 0 || (write && n == 0))
        fail (self, write ? JERR_TFILE_WRITE : JERR_TFILE_READ);

      if (n == 0)
        {
          /* The file was made as long as every array, so there are no holes
           * past its end; be safe anyway. */
          memset (data + done, 0, length - done);
          break;
        }

      done += (gsize) n;
    }
}

static JBLOCKARRAY
access_virt_barray (j_common_ptr     cinfo,
                    jvirt_barray_ptr array,
                    JDIMENSION       start_row,
                    JDIMENSION       n_rows,
                    boolean          writable)
{
  GazeJpeg *self = cinfo->client_data;
  JDIMENSION end_row = start_row + n_rows;

  if (end_row > array->n_rows || n_rows > array->max_access || array->rows == NULL)
    fail (self, JERR_BAD_VIRTUAL_ACCESS);

  if (array->in_file &&
      (start_row < array->first_row || end_row > array->first_row + array->loaded_rows))
    {
      if (array->dirty)
        window_transfer (self, array, TRUE);

      /* libjpeg walks the arrays from top to bottom, a few rows at a time;
       * when it steps back, keep the rows just above in the window. */
      if (start_row >= array->first_row)
        array->first_row = start_row;
      else
        array->first_row = end_row > array->window_rows ? end_row - array->window_rows : 0;
      array->first_row = MIN (array->first_row, array->n_rows - array->window_rows);
      array->loaded_rows = array->window_rows;
      array->dirty = FALSE;

      window_transfer (self, array, FALSE);
    }

  if (writable)
    array->dirty = TRUE;

  return array->rows + (start_row - array->first_row);
}

static void
free_pool (j_common_ptr cinfo,
           int          pool_id)
{
  GazeJpeg *self = cinfo->client_data;

  /* The arrays were allocated from the image pool, and go with it. */
  if (pool_id == JPOOL_IMAGE)
    {
      self->arrays = NULL;
      close_backing_file (self);
    }

  self->free_pool (cinfo, pool_id);
}

/*
 * The source: libjpeg reads from what has been given so far and, when that
 * runs out, suspends until gaze_jpeg_write() brings more.
 */

static void
source_init (j_decompress_ptr cinfo G_GNUC_UNUSED)
{
}

static boolean
source_fill (j_decompress_ptr cinfo)
{
  static const JOCTET end_of_image[] = { 0xff, JPEG_EOI };
  GazeJpeg *self = cinfo->client_data;

  if (!self->at_end)
    return FALSE;

  /* The file ended early. libjpeg finishes the picture in grey, as it
   * would for any damaged file; the caller notices the missing end. */
  cinfo->src->next_input_byte = end_of_image;
  cinfo->src->bytes_in_buffer = sizeof end_of_image;

  return TRUE;
}

static void
source_skip (j_decompress_ptr cinfo,
             long             n_bytes)
{
  GazeJpeg *self = cinfo->client_data;
  struct jpeg_source_mgr *source = cinfo->src;

  if (n_bytes <= 0)
    return;

  if ((gsize) n_bytes <= source->bytes_in_buffer)
    {
      source->next_input_byte += n_bytes;
      source->bytes_in_buffer -= (gsize) n_bytes;
    }
  else
    {
      self->skip += (gsize) n_bytes - source->bytes_in_buffer;
      source->next_input_byte += source->bytes_in_buffer;
      source->bytes_in_buffer = 0;
    }
}

static void
source_term (j_decompress_ptr cinfo G_GNUC_UNUSED)
{
}

/* Drops what libjpeg has consumed, then appends @data. */
static void
source_append (GazeJpeg     *self,
               const guint8 *data,
               gsize         len)
{
  gsize consumed = self->input->len - self->source.bytes_in_buffer;
  gsize skipped = MIN (self->skip, len);

  if (consumed > 0)
    g_byte_array_remove_range (self->input, 0, consumed);

  self->skip -= skipped;
  g_byte_array_append (self->input, data + skipped, len - skipped);

  self->source.next_input_byte = self->input->data;
  self->source.bytes_in_buffer = self->input->len;
}

/*
 * EXIF orientation, from the APP1 segment.
 */

static guint
read_exif_uint (const guint8 *p,
                gboolean      big_endian,
                guint         size)
{
  guint value = 0;

  for (guint i = 0; i < size; i++)
    value |= (guint) p[big_endian ? i : size - 1 - i] << (8 * (size - 1 - i));

  return value;
}

static int
read_orientation (const guint8 *data,
                  gsize         len)
{
  const guint8 *tiff;
  gsize tiff_len;
  gboolean big_endian;
  guint ifd;
  guint n_entries;

  if (len < 6 + 8 || memcmp (data, "Exif\0\0", 6) != 0)
    return 1;

  tiff = data + 6;
  tiff_len = len - 6;

  if (memcmp (tiff, "MM\0*", 4) == 0)
    big_endian = TRUE;
  else if (memcmp (tiff, "II*\0", 4) == 0)
    big_endian = FALSE;
  else
    return 1;

  ifd = read_exif_uint (tiff + 4, big_endian, 4);
  if (ifd > tiff_len - 2)
    return 1;

  n_entries = read_exif_uint (tiff + ifd, big_endian, 2);

  for (guint i = 0; i < n_entries; i++)
    {
      gsize entry = ifd + 2 + (gsize) i * 12;
      guint value;

      if (entry + 12 > tiff_len)
        break;

      /* Tag 0x112, a SHORT. */
      if (read_exif_uint (tiff + entry, big_endian, 2) != 0x112 ||
          read_exif_uint (tiff + entry + 2, big_endian, 2) != 3)
        continue;

      value = read_exif_uint (tiff + entry + 8, big_endian, 2);

      return value >= 1 && value <= 8 ? (int) value : 1;
    }

  return 1;
}

static int
find_orientation (j_decompress_ptr cinfo)
{
  for (jpeg_saved_marker_ptr marker = cinfo->marker_list; marker != NULL; marker = marker->next)
    {
      if (marker->marker == JPEG_APP0 + 1)
        {
          int orientation = read_orientation (marker->data, marker->data_length);

          if (orientation != 1)
            return orientation;
        }
    }

  return 1;
}

static void
on_progress (j_common_ptr cinfo)
{
  GazeJpeg *self = cinfo->client_data;

  if (g_cancellable_is_cancelled (self->cancellable))
    {
      self->cancelled = TRUE;
      fail (self, JERR_NOT_COMPILED);
    }

  if (self->cinfo.input_scan_number > MAX_SCANS)
    {
      self->too_many_scans = TRUE;
      fail (self, JERR_NOT_COMPILED);
    }
}

/*
 * Decoding
 */

/* The smallest of libjpeg's scales that is still at least as large as the
 * fit, so that scaling down afterwards only ever halves the size or less. */
static unsigned int
choose_scale (JDIMENSION width,
              JDIMENSION height,
              int        fit_width,
              int        fit_height)
{
  static const unsigned int denominators[] = { 8, 4, 2 };

  for (guint i = 0; i < G_N_ELEMENTS (denominators); i++)
    {
      unsigned int d = denominators[i];

      if ((width + d - 1) / d >= (JDIMENSION) fit_width &&
          (height + d - 1) / d >= (JDIMENSION) fit_height)
        return d;
    }

  return 1;
}

static void
convert_cmyk_row (GazeJpeg *self,
                  guint8   *out)
{
  const guint8 *in = self->cmyk_row[0];
  gboolean inverted = self->cinfo.saw_Adobe_marker;

  /* Adobe's files store CMYK inverted, which most CMYK JPEGs come from. */
  for (JDIMENSION x = 0; x < self->cinfo.output_width; x++, in += 4, out += 3)
    {
      guint c = in[0], m = in[1], y = in[2], k = in[3];

      if (!inverted)
        {
          c = 255 - c;
          m = 255 - m;
          y = 255 - y;
          k = 255 - k;
        }

      out[0] = (guint8) ((c * k + 127) / 255);
      out[1] = (guint8) ((m * k + 127) / 255);
      out[2] = (guint8) ((y * k + 127) / 255);
    }
}

static gboolean
read_header (GazeJpeg *self)
{
  int width;
  int height;

  switch (jpeg_read_header (&self->cinfo, TRUE))
    {
    case JPEG_SUSPENDED:
      return FALSE;

    case JPEG_HEADER_OK:
      break;

    default:
      /* Tables without a picture. */
      fail (self, JERR_NO_IMAGE);
    }

  width = (int) self->cinfo.image_width;
  height = (int) self->cinfo.image_height;

  if (!self->size_func (width, height, jpeg_has_multiple_scans (&self->cinfo),
                        &self->fit_width, &self->fit_height, self->user_data))
    {
      self->refused = TRUE;
      return FALSE;
    }

  self->fit_width = CLAMP (self->fit_width, 1, width);
  self->fit_height = CLAMP (self->fit_height, 1, height);
  self->orientation = find_orientation (&self->cinfo);

  self->cinfo.scale_num = 1;
  self->cinfo.scale_denom = choose_scale (self->cinfo.image_width, self->cinfo.image_height,
                                          self->fit_width, self->fit_height);

  self->cmyk = self->cinfo.jpeg_color_space == JCS_CMYK || self->cinfo.jpeg_color_space == JCS_YCCK;
  self->cinfo.out_color_space = self->cmyk ? JCS_CMYK : JCS_RGB;

  self->state = STATE_START;

  return TRUE;
}

static gboolean
start (GazeJpeg *self)
{
  JDIMENSION width;
  JDIMENSION height;

  if (!jpeg_start_decompress (&self->cinfo))
    return FALSE;

  width = self->cinfo.output_width;
  height = self->cinfo.output_height;

  /* libjpeg scales by 1/8 at most; a panorama far larger than that is
   * averaged over whole blocks of pixels as its rows come, so that only
   * the reduced picture is ever held. */
  self->block_width = MAX (width / (JDIMENSION) self->fit_width, 1);
  self->block_height = MAX (height / (JDIMENSION) self->fit_height, 1);

  self->pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
                                 (int) ((width + self->block_width - 1) / self->block_width),
                                 (int) ((height + self->block_height - 1) / self->block_height));
  if (self->pixbuf == NULL)
    fail (self, JERR_OUT_OF_MEMORY);

  if (self->cmyk)
    self->cmyk_row = self->cinfo.mem->alloc_sarray ((j_common_ptr) &self->cinfo, JPOOL_IMAGE,
                                                    width * 4, 1);

  if (self->block_width > 1 || self->block_height > 1)
    {
      self->row = self->cinfo.mem->alloc_sarray ((j_common_ptr) &self->cinfo, JPOOL_IMAGE,
                                                 width * 3, 1);
      self->sums = self->cinfo.mem->alloc_large ((j_common_ptr) &self->cinfo, JPOOL_IMAGE,
                                                 (gsize) gdk_pixbuf_get_width (self->pixbuf) * 3 *
                                                 sizeof (guint64));
      memset (self->sums, 0, (gsize) gdk_pixbuf_get_width (self->pixbuf) * 3 * sizeof (guint64));
      self->summed_rows = 0;
    }

  self->state = STATE_SCANLINES;

  return TRUE;
}

/* Adds a decoded row to the sums, and writes a reduced row once a block's
 * rows are all in, or the picture ends. */
static void
reduce_row (GazeJpeg     *self,
            const guint8 *row)
{
  JDIMENSION width = self->cinfo.output_width;
  int reduced_width = gdk_pixbuf_get_width (self->pixbuf);
  guint8 *out;

  for (JDIMENSION x = 0; x < width; x++)
    {
      guint64 *sum = self->sums + (x / self->block_width) * 3;

      sum[0] += row[3 * x];
      sum[1] += row[3 * x + 1];
      sum[2] += row[3 * x + 2];
    }

  self->summed_rows++;

  if (self->summed_rows < self->block_height &&
      self->cinfo.output_scanline < self->cinfo.output_height)
    return;

  out = gdk_pixbuf_get_pixels (self->pixbuf) +
        (gsize) self->reduced_rows * (gsize) gdk_pixbuf_get_rowstride (self->pixbuf);

  for (int x = 0; x < reduced_width; x++)
    {
      /* The last block of a row may be narrower. */
      JDIMENSION columns = MIN (self->block_width, width - (JDIMENSION) x * self->block_width);
      guint64 count = (guint64) columns * self->summed_rows;

      for (int c = 0; c < 3; c++)
        out[3 * x + c] = (guint8) ((self->sums[3 * x + c] + count / 2) / count);
    }

  memset (self->sums, 0, (gsize) reduced_width * 3 * sizeof (guint64));
  self->summed_rows = 0;
  self->reduced_rows++;
}

static gboolean
read_scanlines (GazeJpeg *self)
{
  gboolean reduce = self->row != NULL;
  guint8 *pixels = gdk_pixbuf_get_pixels (self->pixbuf);
  int rowstride = gdk_pixbuf_get_rowstride (self->pixbuf);

  while (self->cinfo.output_scanline < self->cinfo.output_height)
    {
      guint8 *row = reduce ? self->row[0]
                           : pixels + (gsize) self->cinfo.output_scanline * (gsize) rowstride;
      JSAMPROW rows[1] = { row };

      if (self->cmyk)
        {
          if (jpeg_read_scanlines (&self->cinfo, self->cmyk_row, 1) != 1)
            return FALSE;
          convert_cmyk_row (self, row);
        }
      else if (jpeg_read_scanlines (&self->cinfo, rows, 1) != 1)
        return FALSE;

      if (reduce)
        reduce_row (self, row);
    }

  self->state = STATE_FINISH;

  return TRUE;
}

/* Runs libjpeg as far as the data given allows. Returns %FALSE on an
 * error, or when the size function said no. */
static gboolean
run (GazeJpeg  *self,
     GError   **error)
{
  gboolean progress = TRUE;

  if (self->state == STATE_FAILED)
    {
      g_set_error_literal (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_FAILED, "Decoding stopped");
      return FALSE;
    }

  if (setjmp (self->jump) != 0)
    {
      self->state = STATE_FAILED;
      set_error_from_libjpeg (self, error);
      jpeg_abort_decompress (&self->cinfo);
      return FALSE;
    }

  while (progress)
    {
      switch (self->state)
        {
        case STATE_HEADER:
          progress = read_header (self);
          break;

        case STATE_START:
          /* libjpeg's arithmetic decoder cannot suspend for more data, so
           * such a file (rare) is decoded once all of it is here. */
          if (self->cinfo.arith_code && !self->at_end)
            progress = FALSE;
          else
            progress = start (self);
          break;

        case STATE_SCANLINES:
          progress = read_scanlines (self);
          break;

        case STATE_FINISH:
          progress = jpeg_finish_decompress (&self->cinfo);
          if (progress)
            self->state = STATE_DONE;
          break;

        case STATE_DONE:
          return TRUE;

        case STATE_FAILED:
        default:
          g_assert_not_reached ();
        }
    }

  if (self->refused)
    {
      self->state = STATE_FAILED;
      g_set_error_literal (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_FAILED,
                           "The size of the picture was refused");
      return FALSE;
    }

  return TRUE;
}

GazeJpeg *
gaze_jpeg_new (GazeJpegSizeFunc  size_func,
               gpointer          user_data,
               GCancellable     *cancellable)
{
  GazeJpeg *self;

  g_return_val_if_fail (size_func != NULL, NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);

  self = g_new0 (GazeJpeg, 1);
  self->size_func = size_func;
  self->user_data = user_data;
  self->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  self->fd = -1;
  self->orientation = 1;
  self->input = g_byte_array_new ();

  self->cinfo.err = jpeg_std_error (&self->error_mgr);
  self->error_mgr.error_exit = on_error_exit;
  self->error_mgr.output_message = on_output_message;
  self->cinfo.client_data = self;

  if (setjmp (self->jump) != 0)
    {
      /* Only running out of memory can get here. */
      g_error ("libjpeg could not start");
    }

  jpeg_create_decompress (&self->cinfo);

  self->request_virt_barray = self->cinfo.mem->request_virt_barray;
  self->realize_virt_arrays = self->cinfo.mem->realize_virt_arrays;
  self->free_pool = self->cinfo.mem->free_pool;
  self->cinfo.mem->request_virt_barray = request_virt_barray;
  self->cinfo.mem->realize_virt_arrays = realize_virt_arrays;
  self->cinfo.mem->free_pool = free_pool;
  self->cinfo.mem->access_virt_barray = access_virt_barray;

  self->source.init_source = source_init;
  self->source.fill_input_buffer = source_fill;
  self->source.skip_input_data = source_skip;
  self->source.resync_to_restart = jpeg_resync_to_restart;
  self->source.term_source = source_term;
  self->cinfo.src = &self->source;

  self->progress.progress_monitor = on_progress;
  self->cinfo.progress = &self->progress;

  /* Only the orientation is read from the file's metadata. */
  jpeg_save_markers (&self->cinfo, JPEG_APP0 + 1, 0xffff);

  return self;
}

void
gaze_jpeg_free (GazeJpeg *self)
{
  if (self == NULL)
    return;

  jpeg_destroy_decompress (&self->cinfo);
  close_backing_file (self);
  g_byte_array_unref (self->input);
  g_clear_object (&self->pixbuf);
  g_clear_object (&self->cancellable);
  g_free (self);
}

gboolean
gaze_jpeg_write (GazeJpeg      *self,
                 const guint8  *data,
                 gsize          len,
                 GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* What follows the end of the picture is not looked at. */
  if (self->state == STATE_DONE)
    return TRUE;

  source_append (self, data, len);

  return run (self, error);
}

/* Returns the picture at the size asked for, with its EXIF orientation as
 * the "orientation" option, as gdk-pixbuf's loaders attach it. */
GdkPixbuf *
gaze_jpeg_finish (GazeJpeg  *self,
                  GError   **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self->at_end = TRUE;

  if (!run (self, error))
    return NULL;

  if (self->state != STATE_DONE || self->pixbuf == NULL)
    {
      g_set_error_literal (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                           "The file ended before the picture");
      return NULL;
    }

  pixbuf = g_steal_pointer (&self->pixbuf);

  if (gdk_pixbuf_get_width (pixbuf) != self->fit_width ||
      gdk_pixbuf_get_height (pixbuf) != self->fit_height)
    {
      GdkPixbuf *scaled = gdk_pixbuf_scale_simple (pixbuf, self->fit_width, self->fit_height,
                                                   GDK_INTERP_BILINEAR);

      if (scaled == NULL)
        {
          g_set_error_literal (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
                               "Not enough memory to scale the picture");
          return NULL;
        }

      g_set_object (&pixbuf, scaled);
      g_object_unref (scaled);
    }

  if (self->orientation != 1)
    {
      char value[2] = { (char) ('0' + self->orientation), '\0' };

      gdk_pixbuf_set_option (pixbuf, "orientation", value);
    }

  return g_steal_pointer (&pixbuf);
}

/*
 * Encoding
 */

typedef struct
{
  struct jpeg_error_mgr       error_mgr;
  jmp_buf                     jump;
  struct jpeg_destination_mgr destination;
  GByteArray                 *output;
} Encoder;

static void
on_encode_error_exit (j_common_ptr cinfo)
{
  Encoder *encoder = cinfo->client_data;

  longjmp (encoder->jump, 1);
}

/* The destination: one growing array, which the encoder owns whatever
 * happens, so that an error frees it as surely as success returns it. */
static void
destination_init (j_compress_ptr cinfo)
{
  Encoder *encoder = cinfo->client_data;

  g_byte_array_set_size (encoder->output, 64 * 1024);
  cinfo->dest->next_output_byte = encoder->output->data;
  cinfo->dest->free_in_buffer = encoder->output->len;
}

static boolean
destination_grow (j_compress_ptr cinfo)
{
  Encoder *encoder = cinfo->client_data;
  gsize used = encoder->output->len;

  /* libjpeg asks for more only once the buffer is full. */
  g_byte_array_set_size (encoder->output, used * 2);
  cinfo->dest->next_output_byte = encoder->output->data + used;
  cinfo->dest->free_in_buffer = encoder->output->len - used;

  return TRUE;
}

static void
destination_term (j_compress_ptr cinfo)
{
  Encoder *encoder = cinfo->client_data;

  g_byte_array_set_size (encoder->output, encoder->output->len - cinfo->dest->free_in_buffer);
}

/* Only what this function writes reaches the file: a JFIF header, the
 * tables and the picture, never metadata. libjpeg rather than gdk-pixbuf,
 * whose saver has changed between versions and, where it goes through
 * glycin, takes no RGBA for JPEG. */
GBytes *
gaze_jpeg_encode (GdkPixbuf  *pixbuf,
                  int         quality,
                  GError    **error)
{
  struct jpeg_compress_struct cinfo;
  Encoder encoder = { 0 };
  const guint8 *pixels;
  int rowstride;

  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);
  g_return_val_if_fail (!gdk_pixbuf_get_has_alpha (pixbuf), NULL);
  g_return_val_if_fail (gdk_pixbuf_get_n_channels (pixbuf) == 3, NULL);
  g_return_val_if_fail (quality >= 1 && quality <= 100, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  pixels = gdk_pixbuf_read_pixels (pixbuf);
  rowstride = gdk_pixbuf_get_rowstride (pixbuf);

  encoder.output = g_byte_array_new ();
  cinfo.err = jpeg_std_error (&encoder.error_mgr);
  encoder.error_mgr.error_exit = on_encode_error_exit;
  encoder.error_mgr.output_message = on_output_message;
  encoder.destination.init_destination = destination_init;
  encoder.destination.empty_output_buffer = destination_grow;
  encoder.destination.term_destination = destination_term;

  if (setjmp (encoder.jump) != 0)
    {
      char message[JMSG_LENGTH_MAX];

      encoder.error_mgr.format_message ((j_common_ptr) &cinfo, message);
      g_set_error_literal (error, GDK_PIXBUF_ERROR,
                           encoder.error_mgr.msg_code == JERR_OUT_OF_MEMORY
                             ? GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY
                             : GDK_PIXBUF_ERROR_FAILED,
                           message);
      jpeg_destroy_compress (&cinfo);
      g_byte_array_unref (encoder.output);
      return NULL;
    }

  /* Set before libjpeg starts, so that an error while it does finds it. */
  cinfo.client_data = &encoder;
  jpeg_create_compress (&cinfo);
  cinfo.dest = &encoder.destination;

  cinfo.image_width = (JDIMENSION) gdk_pixbuf_get_width (pixbuf);
  cinfo.image_height = (JDIMENSION) gdk_pixbuf_get_height (pixbuf);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, quality, TRUE);
  /* Optimal Huffman tables: a few percent smaller for a few percent more
   * time, on an image that is sent again with every question. */
  cinfo.optimize_coding = TRUE;

  jpeg_start_compress (&cinfo, TRUE);

  while (cinfo.next_scanline < cinfo.image_height)
    {
      JSAMPROW row = (JSAMPROW) (pixels + (gsize) cinfo.next_scanline * (gsize) rowstride);

      jpeg_write_scanlines (&cinfo, &row, 1);
    }

  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);

  return g_byte_array_free_to_bytes (encoder.output);
}
