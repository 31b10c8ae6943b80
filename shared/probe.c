/* probe.c: being written (placeholder so the tree builds) */
typedef int probe_placeholder_t;
