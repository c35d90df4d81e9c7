const char *reverse_copy(const char *s);
int util_strlen(const char *s);
