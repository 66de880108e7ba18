class ChatCompletionResponse:
    id: str
    object: str
    created: int
    model: str
    choices: List[ChatCompletionChoice]
    usage: Usage

class ChatCompletionChoice:
    message: ChatMessage
    index: int
    finish_reason: str

class ChatMessage:
    role: str
    content: str
