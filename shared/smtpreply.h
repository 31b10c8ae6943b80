#ifndef SMTPREPLY_H_INCLUDED
#define SMTPREPLY_H_INCLUDED
/* being written */
#endif
