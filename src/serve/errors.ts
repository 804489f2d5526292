// Errors in the OpenAI wire format: {"error": {"message", "type", "param", "code"}}.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status === 401
      ? 'authentication_error'
      : status === 404
        ? 'not_found_error'
        : status >= 500
          ? 'server_error'
          : 'invalid_request_error',
  ) {
    super(message);
  }
  toJSON(): object {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badParam = (param: string, message: string): ApiError =>
  new ApiError(400, message, param, 'invalid_parameter');
export const unknownModel = (id: string): ApiError =>
  new ApiError(404, `The model "${id}" does not exist (see GET /v1/models)`, 'model', 'model_not_found');
