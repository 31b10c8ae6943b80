/* smtpreply.c: being written (placeholder so the tree builds) */
typedef int smtpreply_placeholder_t;
