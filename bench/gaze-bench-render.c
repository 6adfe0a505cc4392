/* gaze-bench-render.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * How long the window takes to show an answer that streams in as 10 000
 * small pieces, or as one piece of 100 KB, and the longest time the main
 * loop is kept from drawing meanwhile. Needs a display (Xvfb will do).
 */

#define G_LOG_DOMAIN "gaze-bench-render"

#include "config.h"

#include <adwaita.h>

#include "gaze-turn-view.h"

#define N_DELTAS 10000
/* Pieces arrive in bursts, as network reads bring them. */
#define DELTAS_PER_READ 20

typedef struct
{
  GazeTurnView *turn;
  GString      *text;
  guint         sent;
  gint64        started;
  gint64        last_tick;
  gint64        longest_gap;
  gboolean      done;
} Run;

static gboolean
tick_cb (gpointer data)
{
  Run *run = data;
  gint64 now = g_get_monotonic_time ();

  if (run->last_tick != 0)
    run->longest_gap = MAX (run->longest_gap, now - run->last_tick);
  run->last_tick = now;

  return G_SOURCE_CONTINUE;
}

static gboolean
feed_cb (gpointer data)
{
  Run *run = data;
  static const char *pieces[] = {
    "The ", "**photo** ", "shows ", "a ", "hill,\n", "- one ", "`item`\n", "and more. "
  };

  for (guint i = 0; i < DELTAS_PER_READ && run->sent < N_DELTAS; i++, run->sent++)
    {
      const char *piece = pieces[run->sent % G_N_ELEMENTS (pieces)];

      gaze_turn_view_append (run->turn, piece);
      g_string_append (run->text, piece);
    }

  if (run->sent < N_DELTAS)
    return G_SOURCE_CONTINUE;

  run->done = TRUE;
  return G_SOURCE_REMOVE;
}

static GtkScrolledWindow *
scroller (GtkWindow *window)
{
  return GTK_SCROLLED_WINDOW (gtk_window_get_child (window));
}

/* Runs the main loop until @turn shows all of its answer, and says how
 * long the loop was kept from running at most.
 */
static gint64
wait_until_shown (GazeTurnView *turn,
                  gint64       *longest_gap)
{
  gint64 last = g_get_monotonic_time ();
  gint64 started = last;

  while (!gaze_turn_view_get_shown (turn))
    {
      gint64 now;

      g_main_context_iteration (NULL, TRUE);
      now = g_get_monotonic_time ();
      *longest_gap = MAX (*longest_gap, now - last);
      last = now;
    }

  return last - started;
}

static void
wait_for_frames (guint n)
{
  /* Let the frame clock draw what is pending. */
  for (guint i = 0; i < n; i++)
    {
      gint64 until = g_get_monotonic_time () + 20000;

      while (g_get_monotonic_time () < until)
        g_main_context_iteration (NULL, FALSE);
    }
}

static double
run_deltas (GtkWindow *window)
{
  Run run = { 0 };
  guint tick_id;
  gint64 elapsed;

  run.turn = gaze_turn_view_new ("Describe it", NULL);
  run.text = g_string_new (NULL);
  gtk_scrolled_window_set_child (scroller (window), GTK_WIDGET (run.turn));
  wait_for_frames (5);

  tick_id = g_timeout_add (1, tick_cb, &run);
  run.started = g_get_monotonic_time ();
  g_idle_add (feed_cb, &run);

  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  wait_until_shown (run.turn, &run.longest_gap);
  elapsed = g_get_monotonic_time () - run.started;
  g_source_remove (tick_id);

  g_print ("10 000 deltas (%zu bytes of Markdown): %.0f ms until shown, "
           "longest main-loop gap %.1f ms\n",
           run.text->len, elapsed / 1000.0, run.longest_gap / 1000.0);
  g_string_free (run.text, TRUE);

  return elapsed / 1000.0;
}

static void
run_one_large (GtkWindow *window)
{
  g_autoptr(GString) text = g_string_new (NULL);
  GazeTurnView *turn = gaze_turn_view_new ("Describe it", NULL);
  gint64 longest_gap = 0;
  gint64 started;

  while (text->len < 100 * 1024)
    g_string_append (text,
                     "A paragraph with **some** words, `code` and a "
                     "[link](https://example.com).\n\n");

  gtk_scrolled_window_set_child (scroller (window), GTK_WIDGET (turn));
  wait_for_frames (5);

  started = g_get_monotonic_time ();
  gaze_turn_view_append (turn, text->str);
  wait_until_shown (turn, &longest_gap);
  g_print ("one delta of %zu bytes: %.0f ms until shown, longest main-loop gap %.1f ms\n",
           text->len, (g_get_monotonic_time () - started) / 1000.0, longest_gap / 1000.0);
}

int
main (int   argc,
      char *argv[])
{
  GtkWindow *window;

  gtk_init ();
  adw_init ();

  window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (window, 760, 680);
  gtk_window_set_child (window, gtk_scrolled_window_new ());
  gtk_window_present (window);

  run_deltas (window);
  run_one_large (window);

  gtk_window_destroy (window);

  return 0;
}
