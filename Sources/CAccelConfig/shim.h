#include <accel-config/libaccel_config.h>
