/* libFuzzer: the etcd discovery record parser (spec §3.3 JSON) and the key helpers. A record
 * that parses must format back into one that parses to the same values. */
#include "dyn/discovery.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dyn_instance in, again;
    dyn_error err;
    if (dyn_instance_parse((const char *)data, size, &in, &err) == DYN_OK) {
        char buf[2048];
        size_t n = dyn_instance_format(&in, buf, sizeof buf);
        if (n < sizeof buf) {
            if (dyn_instance_parse(buf, n, &again, &err) != DYN_OK || again.instance_id != in.instance_id ||
                strcmp(again.address, in.address) != 0 || strcmp(again.ns, in.ns) != 0)
                abort();
        }
    }
    char key[256];
    size_t k = size < sizeof key - 1 ? size : sizeof key - 1;
    memcpy(key, data, k);
    key[k] = '\0';
    (void)dyn_instance_id_from_key(key);
    char slug[64];
    dyn_slugify(key, slug, sizeof slug);
    (void)dyn_name_valid(key, 1);
    return 0;
}
