#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include "error_queue.h"

int cshim_drain_error_queue(char *out, size_t capacity) {
    int count = 0;
    size_t used = 0;
    if (capacity > 0) out[0] = '\0';
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        char text[256];
        ERR_error_string_n(code, text, sizeof text);
        const char *separator = count > 0 ? "; " : "";
        size_t room = capacity > used ? capacity - used : 0;
        if (room > 1) {
            int written = snprintf(out + used, room, "%s%s", separator, text);
            if (written > 0) used += (size_t)written < room ? (size_t)written : room - 1;
        }
        count++;
    }
    return count;
}
