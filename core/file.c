/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded reads of the small files the configuration names. */
#include "gp11_file.h"
#include "gp11_error.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens path without blocking (a FIFO put in its place must not hang us)
 * and checks that it is a regular file of at most max bytes. */
static uint32_t open_bounded(const char *path, const char *what, size_t max,
                             int *fd, size_t *size)
{
    struct stat sb;

    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (*fd < 0)
        return gp11_err_set(GP11_ERR_CONFIG_MISSING,
                            "cannot open the %s %s: %s", what, path,
                            strerror(errno));
    if (fstat(*fd, &sb) != 0)
        return gp11_err_set(GP11_ERR_CONFIG_MISSING,
                            "cannot read the %s %s: %s", what, path,
                            strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return gp11_err_set(GP11_ERR_CONFIG_VALUE,
                            "the %s %s is not a regular file", what, path);
    if ((uintmax_t)sb.st_size > max)
        return gp11_err_set(GP11_ERR_CONFIG_VALUE,
                            "the %s %s is larger than %zu MiB", what, path,
                            max >> 20);
    *size = (size_t)sb.st_size;
    return GP11_OK;
}

uint32_t gp11_file_read(const char *path, const char *what, size_t max,
                        uint8_t **buf, size_t *len)
{
    uint8_t *data = NULL;
    size_t size = 0, got = 0;
    uint32_t ret;
    ssize_t n;
    int fd = -1;

    *buf = NULL;
    *len = 0;
    ret = open_bounded(path, what, max, &fd, &size);
    if (ret != GP11_OK)
        goto done;
    data = malloc(size + 1);
    if (data == NULL) {
        ret = gp11_err_set(GP11_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    /* A file that grows meanwhile is read up to its size at fstat(). */
    while (got < size) {
        n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = gp11_err_set(GP11_ERR_CONFIG_MISSING,
                               "cannot read the %s %s: %s", what, path,
                               strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    data[got] = 0;
    *buf = data;
    *len = got;
    data = NULL;
done:
    free(data);
    if (fd >= 0)
        close(fd);
    return ret;
}
