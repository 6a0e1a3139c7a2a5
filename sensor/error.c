/* error.c — cg_strerror, the text of every code of error.h (one table). */
#include "sensor/error.h"

#include <string.h>

const char *cg_strerror(int code)
{
    if (code > 0)
        return strerror(code);
    switch (code) {
    case CG_OK: return "ok";
    case CG_EFAIL: return "failed";
    case CG_ENOMEM: return "out of memory";
    case CG_EIO: return "input/output error";
    case CG_EINVAL: return "invalid argument";
    case CG_ENOTFOUND: return "not found";
    case CG_EBUSY: return "held by another process";
    case CG_EFULL: return "full";
    case CG_ECORRUPT: return "damaged";
    case CG_ENEWER: return "written by a newer version";
    case CG_EOLDER: return "written by an older version";
    case CG_EEMPTY: return "nothing to write";
    case CG_ETRUNCATED: return "truncated";
    case CG_EMALFORMED: return "invalid";
    case CG_EUNSUPPORTED: return "unsupported link or protocol";
    case CG_EEXIST: return "already exists";
    case CG_EPERM: return "refused";
    case CG_EDNS_LABEL: return "bad label length";
    case CG_EDNS_NAME_LEN: return "name too long";
    case CG_EDNS_LOOP: return "compression loop";
    case CG_EDNS_PTR_FORWARD: return "forward compression pointer";
    case CG_EDNS_PTR_RANGE: return "compression pointer out of bounds";
    case CG_EDNS_HOPS: return "too many compression pointers";
    default: return "unknown error";
    }
}
