/* dns.c: being written (placeholder so the tree builds) */
typedef int dns_placeholder_t;
