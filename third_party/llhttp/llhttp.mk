# llhttp glue: Debian has no llhttp library package, but node-llhttp ships the generated
# C sources (version 8.1). We compile those three files into our own objects here, so the
# parser is exactly Debian's, patched by Debian's security updates, and nothing is vendored.
LLHTTP_SRC_DIR := /usr/share/llhttp
LLHTTP_INCLUDE_DIR := /usr/share/include/llhttp
LLHTTP_SRC := api.c http.c llhttp.c
LLHTTP_OBJ := $(LLHTTP_SRC:%.c=$(OUT)/obj/third_party/llhttp/%.o)
LLHTTP_CFLAGS := -O2 -g -I$(LLHTTP_INCLUDE_DIR) $(SAN_FLAGS)

$(OUT)/obj/third_party/llhttp/%.o: $(LLHTTP_SRC_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LLHTTP_CFLAGS) -c $< -o $@
