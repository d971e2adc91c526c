/* The shared RK4 step's one out-of-line copy in builds for size (rk4.h). */
#define S2_RK4_DEFINE
#include "rk4.h"
