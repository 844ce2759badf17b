/** A multipart body as `inject()` wants it, built by the platform's own FormData encoder. */
export async function multipart(
  parts: ({ field: string; value: string } | { field: string; filename: string; bytes: Uint8Array })[],
): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const part of parts) {
    if ('value' in part) form.append(part.field, part.value);
    else form.append(part.field, new Blob([part.bytes]), part.filename);
  }
  const response = new Response(form);
  return {
    payload: Buffer.from(await response.arrayBuffer()),
    headers: { 'content-type': response.headers.get('content-type')! },
  };
}
