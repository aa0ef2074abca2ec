<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR" sourcelanguage="en">
    <context>
        <name>About</name>
        <message>
            <source>llama.cpp backend: {backend}</source>
            <translation>llama.cpp 백엔드: {backend}</translation>
        </message>
        <message>
            <source>no model loaded yet</source>
            <translation>아직 불러온 모델 없음</translation>
        </message>
        <message>
            <source>Offline answers from PDF manuals with small local language models.</source>
            <translation>작은 로컬 언어 모델로 PDF 매뉴얼에 대한 질문에 오프라인으로 답합니다.</translation>
        </message>
        <message>
            <source>Licensed under the Apache License 2.0. The app ships third-party software and models under their own licences (llama.cpp MIT, Qt/PySide6 LGPL, SmolLM2 Apache-2.0, Gemma terms, the sample manual GNU FDL).</source>
            <translation>Apache License 2.0으로 배포됩니다. 이 앱에는 각자의 라이선스를 따르는 타사 소프트웨어와 모델이 들어 있습니다(llama.cpp MIT, Qt/PySide6 LGPL, SmolLM2 Apache-2.0, Gemma 약관, 예제 매뉴얼 GNU FDL).</translation>
        </message>
        <message>
            <source>The licence files are in the package's metadata (pip show -f rag-desktop).</source>
            <translation>라이선스 파일은 패키지 메타데이터에 있습니다(pip show -f rag-desktop).</translation>
        </message>
        <message>
            <source>About rag-desktop</source>
            <translation>rag-desktop 정보</translation>
        </message>
    </context>
    <context>
        <name>AddServerDialog</name>
        <message>
            <source>Add a model server</source>
            <translation>모델 서버 추가</translation>
        </message>
        <message>
            <source>optional; kept in the system keyring</source>
            <translation>선택 사항이며 시스템 키링에 보관됩니다</translation>
        </message>
        <message>
            <source>Check</source>
            <translation>확인하기</translation>
        </message>
        <message>
            <source>Check asks the server which models it serves.</source>
            <translation>확인하기를 누르면 서버가 제공하는 모델을 묻습니다.</translation>
        </message>
        <message>
            <source>Add</source>
            <translation>추가</translation>
        </message>
        <message>
            <source>Server URL</source>
            <translation>서버 URL</translation>
        </message>
        <message>
            <source>API key</source>
            <translation>API 키</translation>
        </message>
        <message>
            <source>Model</source>
            <translation>모델</translation>
        </message>
        <message>
            <source>Type the server's address first.</source>
            <translation>먼저 서버 주소를 입력하세요.</translation>
        </message>
        <message>
            <source>Asking {url}…</source>
            <translation>{url}에 묻는 중…</translation>
        </message>
        <message>
            <source>it serves no model</source>
            <translation>서버가 제공하는 모델이 없습니다</translation>
        </message>
        <message>
            <source>context {n} tokens</source>
            <translation>컨텍스트 {n} 토큰</translation>
        </message>
        <message>
            <source>context length not reported: the model's own is assumed</source>
            <translation>컨텍스트 길이를 알려 주지 않아 모델 자체의 값을 가정합니다</translation>
        </message>
        <message>
            <source>✓ {n} model(s); {context}</source>
            <translation>✓ 모델 {n}개, {context}</translation>
        </message>
    </context>
    <context>
        <name>AnswerBlock</name>
        <message>
            <source>(no answer)</source>
            <translation>(답변 없음)</translation>
        </message>
        <message>
            <source>Copy</source>
            <translation>복사</translation>
        </message>
        <message>
            <source>Regenerate</source>
            <translation>다시 생성</translation>
        </message>
        <message>
            <source>Ask this question again with the current model; this answer is kept above the new one</source>
            <translation>현재 모델로 이 질문을 다시 합니다. 이 답변은 새 답변 위에 남습니다</translation>
        </message>
        <message>
            <source>Stop</source>
            <translation>중지</translation>
        </message>
    </context>
    <context>
        <name>AnswerText</name>
        <message>
            <source>answer {i}/{n}</source>
            <translation>답변 {i}/{n}</translation>
        </message>
        <message>
            <source>&lt;b&gt;Not in the documents&lt;/b&gt;: nothing in the library looks relevant, so {model} was not asked (retrieval {ms} ms). The closest passages are listed below. To ask the model anyway, turn off Settings → Relevance gate.</source>
            <translation>&lt;b&gt;문서에 없음&lt;/b&gt;: 라이브러리에 관련 있어 보이는 내용이 없어 {model}에게 묻지 않았습니다(검색 {ms} ms). 가장 가까운 구절은 아래에 있습니다. 그래도 모델에게 물으려면 설정 → 관련성 게이트를 끄세요.</translation>
        </message>
        <message>
            <source>grounded &lt;b&gt;{supported}/{total}&lt;/b&gt; sentences (unsupported ones highlighted)</source>
            <translation>근거 있는 문장 &lt;b&gt;{supported}/{total}&lt;/b&gt; (근거 없는 문장은 강조 표시)</translation>
        </message>
        <message>
            <source>grounded &lt;b&gt;{supported}/{total}&lt;/b&gt; sentences</source>
            <translation>근거 있는 문장 &lt;b&gt;{supported}/{total}&lt;/b&gt;</translation>
        </message>
        <message>
            <source>&lt;b&gt;refused&lt;/b&gt;: the model found no answer in the passages</source>
            <translation>&lt;b&gt;답변 거절&lt;/b&gt;: 모델이 구절에서 답을 찾지 못했습니다</translation>
        </message>
        <message>
            <source>&lt;b&gt;{seconds} s&lt;/b&gt; total</source>
            <translation>전체 &lt;b&gt;{seconds}초&lt;/b&gt;</translation>
        </message>
        <message>
            <source>first token {ms} ms</source>
            <translation>첫 토큰 {ms} ms</translation>
        </message>
        <message>
            <source>{rate} tok/s</source>
            <translation>{rate} 토큰/초</translation>
        </message>
        <message>
            <source>retrieval {ms} ms</source>
            <translation>검색 {ms} ms</translation>
        </message>
        <message>
            <source>cosine to reference &lt;b&gt;{cosine}&lt;/b&gt;</source>
            <translation>참조 답변과의 코사인 &lt;b&gt;{cosine}&lt;/b&gt;</translation>
        </message>
        <message>
            <source>&lt;i&gt;stopped&lt;/i&gt;</source>
            <translation>&lt;i&gt;중지됨&lt;/i&gt;</translation>
        </message>
        <message>
            <source>{n} chunk(s) left out to fit the context</source>
            <translation>컨텍스트에 맞추려고 청크 {n}개를 뺐습니다</translation>
        </message>
        <message>
            <source>&lt;b&gt;answered from {searched} of {total} pages&lt;/b&gt;: the rest are still being added</source>
            <translation>&lt;b&gt;{total}쪽 중 {searched}쪽에서 답함&lt;/b&gt;: 나머지는 아직 추가하는 중입니다</translation>
        </message>
        <message>
            <source>&lt;b&gt;⚠ the server cut the prompt&lt;/b&gt;: it counted fewer tokens than were sent, so some passages went unread</source>
            <translation>&lt;b&gt;⚠ 서버가 프롬프트를 잘랐습니다&lt;/b&gt;: 보낸 것보다 적은 토큰을 셌으므로 일부 구절을 읽지 않았습니다</translation>
        </message>
    </context>
    <context>
        <name>AskPanel</name>
        <message>
            <source>{label} (PDF p. {page})</source>
            <translation>{label} (PDF {page}페이지)</translation>
        </message>
        <message>
            <source>PDF page {page} of the file</source>
            <translation>파일의 PDF {page}페이지</translation>
        </message>
        <message>
            <source>Ask a question about your PDFs… (Ctrl+Enter)</source>
            <translation>PDF에 대해 질문하세요… (Ctrl+Enter)</translation>
        </message>
        <message>
            <source>Optional reference answer: shows the cosine similarity</source>
            <translation>참조 답변(선택): 코사인 유사도를 보여 줍니다</translation>
        </message>
        <message>
            <source>Ask</source>
            <translation>질문</translation>
        </message>
        <message>
            <source>Stop</source>
            <translation>중지</translation>
        </message>
        <message>
            <source>&lt;b&gt;Sources&lt;/b&gt; — click one, or a citation such as [1], to see its page</source>
            <translation>&lt;b&gt;출처&lt;/b&gt; — 출처나 [1] 같은 인용을 누르면 해당 페이지가 보입니다</translation>
        </message>
        <message>
            <source>Ask a question about your PDFs. Answers stream here with their sources; earlier conversations are on the left.</source>
            <translation>PDF에 대해 질문하세요. 답변은 출처와 함께 여기에 나타나고, 이전 대화는 왼쪽에 있습니다.</translation>
        </message>
        <message>
            <source>Retrieving and generating…</source>
            <translation>검색하고 생성하는 중…</translation>
        </message>
        <message>
            <source>Generating…</source>
            <translation>생성하는 중…</translation>
        </message>
    </context>
    <context>
        <name>ChatController</name>
        <message>
            <source>Export conversation</source>
            <translation>대화 내보내기</translation>
        </message>
        <message>
            <source>Markdown (*.md);;CSV (*.csv)</source>
            <translation>Markdown (*.md);;CSV (*.csv)</translation>
        </message>
        <message>
            <source>An answer is streaming: stop it first (Esc).</source>
            <translation>답변을 생성하는 중입니다. 먼저 중지하세요(Esc).</translation>
        </message>
    </context>
    <context>
        <name>Column</name>
        <message>
            <source>run_id</source>
            <translation>실행 ID</translation>
        </message>
        <message>
            <source>started_at</source>
            <translation>시작 시각</translation>
        </message>
        <message>
            <source>model_id</source>
            <translation>모델 ID</translation>
        </message>
        <message>
            <source>model_file</source>
            <translation>모델 파일</translation>
        </message>
        <message>
            <source>quant</source>
            <translation>양자화</translation>
        </message>
        <message>
            <source>n_gpu_layers</source>
            <translation>GPU 레이어 수</translation>
        </message>
        <message>
            <source>backend</source>
            <translation>백엔드</translation>
        </message>
        <message>
            <source>n_threads</source>
            <translation>스레드 수</translation>
        </message>
        <message>
            <source>config</source>
            <translation>구성</translation>
        </message>
        <message>
            <source>bm25_weight</source>
            <translation>BM25 가중치</translation>
        </message>
        <message>
            <source>k</source>
            <translation>k</translation>
        </message>
        <message>
            <source>question_id</source>
            <translation>질문 ID</translation>
        </message>
        <message>
            <source>question</source>
            <translation>질문</translation>
        </message>
        <message>
            <source>answer</source>
            <translation>답변</translation>
        </message>
        <message>
            <source>reference_answer</source>
            <translation>참조 답변</translation>
        </message>
        <message>
            <source>cosine</source>
            <translation>코사인</translation>
        </message>
        <message>
            <source>page_hit</source>
            <translation>페이지 적중</translation>
        </message>
        <message>
            <source>first_hit_rank</source>
            <translation>첫 적중 순위</translation>
        </message>
        <message>
            <source>refused</source>
            <translation>거절</translation>
        </message>
        <message>
            <source>response_time_s</source>
            <translation>응답 시간(초)</translation>
        </message>
        <message>
            <source>retrieval_s</source>
            <translation>검색 시간(초)</translation>
        </message>
        <message>
            <source>first_token_s</source>
            <translation>첫 토큰(초)</translation>
        </message>
        <message>
            <source>generation_s</source>
            <translation>생성 시간(초)</translation>
        </message>
        <message>
            <source>prompt_tokens</source>
            <translation>프롬프트 토큰</translation>
        </message>
        <message>
            <source>completion_tokens</source>
            <translation>생성 토큰</translation>
        </message>
        <message>
            <source>tokens_per_s</source>
            <translation>토큰/초</translation>
        </message>
        <message>
            <source>cache_hit</source>
            <translation>캐시 적중</translation>
        </message>
        <message>
            <source>error</source>
            <translation>오류</translation>
        </message>
        <message>
            <source>ref_pages</source>
            <translation>참조 페이지</translation>
        </message>
        <message>
            <source>source_pages</source>
            <translation>출처 페이지</translation>
        </message>
        <message>
            <source>grounded</source>
            <translation>근거 비율</translation>
        </message>
        <message>
            <source>n</source>
            <translation>개수</translation>
        </message>
        <message>
            <source>errors</source>
            <translation>오류 수</translation>
        </message>
        <message>
            <source>response_time_mean_s</source>
            <translation>평균 응답 시간(초)</translation>
        </message>
        <message>
            <source>response_time_median_s</source>
            <translation>응답 시간 중앙값(초)</translation>
        </message>
        <message>
            <source>response_time_p95_s</source>
            <translation>응답 시간 p95(초)</translation>
        </message>
        <message>
            <source>tokens_per_s_mean</source>
            <translation>평균 토큰/초</translation>
        </message>
        <message>
            <source>cosine_mean</source>
            <translation>평균 코사인</translation>
        </message>
        <message>
            <source>page_hit_rate</source>
            <translation>페이지 적중률</translation>
        </message>
        <message>
            <source>refusal_accuracy</source>
            <translation>거절 정확도</translation>
        </message>
        <message>
            <source>cache_hits</source>
            <translation>캐시 적중 수</translation>
        </message>
        <message>
            <source>grounded_mean</source>
            <translation>평균 근거 비율</translation>
        </message>
        <message>
            <source>Name</source>
            <translation>이름</translation>
        </message>
        <message>
            <source>Pages</source>
            <translation>페이지</translation>
        </message>
        <message>
            <source>Chunks</source>
            <translation>청크</translation>
        </message>
        <message>
            <source>Added</source>
            <translation>추가한 날짜</translation>
        </message>
        <message>
            <source>Status</source>
            <translation>상태</translation>
        </message>
        <message>
            <source>True</source>
            <translation>예</translation>
        </message>
        <message>
            <source>False</source>
            <translation>아니요</translation>
        </message>
        <message>
            <source>File</source>
            <translation>파일</translation>
        </message>
        <message>
            <source>Page</source>
            <translation>페이지</translation>
        </message>
        <message>
            <source>Snippet</source>
            <translation>발췌</translation>
        </message>
        <message>
            <source>BM25</source>
            <translation>BM25</translation>
        </message>
        <message>
            <source>Dense</source>
            <translation>밀집</translation>
        </message>
        <message>
            <source>Fused</source>
            <translation>융합</translation>
        </message>
        <message>
            <source>Section</source>
            <translation>섹션</translation>
        </message>
        <message>
            <source>Model</source>
            <translation>모델</translation>
        </message>
        <message>
            <source>Size</source>
            <translation>크기</translation>
        </message>
        <message>
            <source>Quant</source>
            <translation>양자화</translation>
        </message>
        <message>
            <source>Where</source>
            <translation>위치</translation>
        </message>
    </context>
    <context>
        <name>ConversationList</name>
        <message>
            <source>Rename conversation</source>
            <translation>대화 이름 바꾸기</translation>
        </message>
        <message>
            <source>Title:</source>
            <translation>제목:</translation>
        </message>
        <message>
            <source>Delete conversation</source>
            <translation>대화 삭제</translation>
        </message>
        <message>
            <source>Delete “{0}” and all its answers? This cannot be undone.</source>
            <translation>“{0}” 대화와 모든 답변을 삭제할까요? 되돌릴 수 없습니다.</translation>
        </message>
        <message>
            <source>Search titles</source>
            <translation>제목 검색</translation>
        </message>
        <message>
            <source>New conversation</source>
            <translation>새 대화</translation>
        </message>
        <message>
            <source>Rename</source>
            <translation>이름 바꾸기</translation>
        </message>
        <message>
            <source>Delete</source>
            <translation>삭제</translation>
        </message>
        <message>
            <source>Export</source>
            <translation>내보내기</translation>
        </message>
        <message>
            <source>Save the conversation as Markdown or CSV</source>
            <translation>대화를 Markdown 또는 CSV로 저장</translation>
        </message>
        <message>
            <source>(untitled)</source>
            <translation>(제목 없음)</translation>
        </message>
        <message>
            <source>{0} turns · last change {1}</source>
            <translation>질문 {0}개 · 마지막 수정 {1}</translation>
        </message>
    </context>
    <context>
        <name>EvalCharts</name>
        <message>
            <source>, BM25 weight {weight}</source>
            <translation>, BM25 가중치 {weight}</translation>
        </message>
        <message>
            <source> ({fusion} fusion)</source>
            <translation> ({fusion} 융합)</translation>
        </message>
        <message>
            <source>Questions:</source>
            <translation>질문:</translation>
        </message>
        <message>
            <source>Cosine to the reference, per question</source>
            <translation>질문별 참조 답변과의 코사인</translation>
        </message>
        <message>
            <source>cosine</source>
            <translation>코사인</translation>
        </message>
        <message>
            <source>Mean response time per configuration</source>
            <translation>구성별 평균 응답 시간</translation>
        </message>
        <message>
            <source>mean total</source>
            <translation>전체 평균</translation>
        </message>
        <message>
            <source>seconds</source>
            <translation>초</translation>
        </message>
    </context>
    <context>
        <name>EvalPanel</name>
        <message>
            <source>Normalised scores (default)</source>
            <translation>정규화 점수 (기본값)</translation>
        </message>
        <message>
            <source>Reciprocal rank (EnsembleRetriever, as specified)</source>
            <translation>역순위 (EnsembleRetriever, 명세대로)</translation>
        </message>
        <message>
            <source>Both, side by side</source>
            <translation>둘 다 나란히</translation>
        </message>
        <message>
            <source>Evaluating</source>
            <translation>평가 중</translation>
        </message>
        <message>
            <source>starting</source>
            <translation>시작하는 중</translation>
        </message>
        <message>
            <source>resuming</source>
            <translation>이어서 하는 중</translation>
        </message>
        <message>
            <source>done</source>
            <translation>완료</translation>
        </message>
        <message>
            <source>Choose a question file</source>
            <translation>질문 파일 선택</translation>
        </message>
        <message>
            <source>all</source>
            <translation>전체</translation>
        </message>
        <message>
            <source>Run evaluation</source>
            <translation>평가 실행</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>취소</translation>
        </message>
        <message>
            <source>Export CSV…</source>
            <translation>CSV 내보내기…</translation>
        </message>
        <message>
            <source>Questions</source>
            <translation>질문</translation>
        </message>
        <message>
            <source>Models</source>
            <translation>모델</translation>
        </message>
        <message>
            <source>BM25 weights</source>
            <translation>BM25 가중치</translation>
        </message>
        <message>
            <source>Fusion</source>
            <translation>융합 방식</translation>
        </message>
        <message>
            <source>k</source>
            <translation>k</translation>
        </message>
        <message>
            <source>Max tokens</source>
            <translation>최대 토큰</translation>
        </message>
        <message>
            <source>Limit questions</source>
            <translation>질문 수 제한</translation>
        </message>
        <message>
            <source>Filter rows (any column)…</source>
            <translation>행 필터 (모든 열)…</translation>
        </message>
        <message>
            <source>Results</source>
            <translation>결과</translation>
        </message>
        <message>
            <source>Summary</source>
            <translation>요약</translation>
        </message>
        <message>
            <source>Charts</source>
            <translation>차트</translation>
        </message>
        <message>
            <source>Question file</source>
            <translation>질문 파일</translation>
        </message>
        <message>
            <source>Questions (*.jsonl *.csv)</source>
            <translation>질문 파일 (*.jsonl *.csv)</translation>
        </message>
        <message>
            <source>Tick at least one model.</source>
            <translation>모델을 하나 이상 선택하세요.</translation>
        </message>
        <message>
            <source>Export the evaluation to a folder</source>
            <translation>평가 결과를 내보낼 폴더</translation>
        </message>
        <message>
            <source>Running…</source>
            <translation>실행 중…</translation>
        </message>
        <message>
            <source>{n} rows, cancelled.</source>
            <translation>{n}행, 취소됨.</translation>
        </message>
        <message>
            <source>{n} rows, done.</source>
            <translation>{n}행, 완료.</translation>
        </message>
        <message>
            <source>The last run ({n} rows, {when}), reloaded from {where}.</source>
            <translation>지난 실행({n}행, {when})을 {where}에서 다시 불러왔습니다.</translation>
        </message>
        <message>
            <source>The last run ({n} rows), reloaded from {where}.</source>
            <translation>지난 실행({n}행)을 {where}에서 다시 불러왔습니다.</translation>
        </message>
    </context>
    <context>
        <name>JobKind</name>
        <message>
            <source>Opening library</source>
            <translation>라이브러리 여는 중</translation>
        </message>
        <message>
            <source>Adding PDFs</source>
            <translation>PDF 추가 중</translation>
        </message>
        <message>
            <source>Removing document</source>
            <translation>문서 제거 중</translation>
        </message>
        <message>
            <source>Loading model</source>
            <translation>모델 불러오는 중</translation>
        </message>
        <message>
            <source>Applying settings</source>
            <translation>설정 적용 중</translation>
        </message>
        <message>
            <source>Rescanning models</source>
            <translation>모델 다시 찾는 중</translation>
        </message>
        <message>
            <source>Answering</source>
            <translation>답변하는 중</translation>
        </message>
        <message>
            <source>Evaluating</source>
            <translation>평가 중</translation>
        </message>
        <message>
            <source>Exporting evaluation</source>
            <translation>평가 내보내는 중</translation>
        </message>
        <message>
            <source>Exporting history</source>
            <translation>기록 내보내는 중</translation>
        </message>
        <message>
            <source>Reloading the last evaluation</source>
            <translation>지난 평가 다시 불러오는 중</translation>
        </message>
        <message>
            <source>Downloading model</source>
            <translation>모델 내려받는 중</translation>
        </message>
        <message>
            <source>Adding model</source>
            <translation>모델 추가 중</translation>
        </message>
        <message>
            <source>Listing conversations</source>
            <translation>대화 목록 불러오는 중</translation>
        </message>
        <message>
            <source>Opening conversation</source>
            <translation>대화 여는 중</translation>
        </message>
        <message>
            <source>Renaming conversation</source>
            <translation>대화 이름 바꾸는 중</translation>
        </message>
        <message>
            <source>Deleting conversation</source>
            <translation>대화 삭제 중</translation>
        </message>
        <message>
            <source>Exporting conversation</source>
            <translation>대화 내보내는 중</translation>
        </message>
    </context>
    <context>
        <name>JobsView</name>
        <message>
            <source>running</source>
            <translation>실행 중</translation>
        </message>
        <message>
            <source>waiting</source>
            <translation>대기 중</translation>
        </message>
        <message>
            <source>Cancelling…</source>
            <translation>취소하는 중…</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>취소</translation>
        </message>
    </context>
    <context>
        <name>Language</name>
        <message>
            <source>System</source>
            <translation>시스템 설정</translation>
        </message>
    </context>
    <context>
        <name>LibraryPanel</name>
        <message>
            <source>Reading pages</source>
            <translation>페이지 읽는 중</translation>
        </message>
        <message>
            <source>Reading scanned pages (OCR)</source>
            <translation>스캔한 페이지 읽는 중(OCR)</translation>
        </message>
        <message>
            <source>Embedding chunks</source>
            <translation>청크 임베딩 중</translation>
        </message>
        <message>
            <source>Saving</source>
            <translation>저장 중</translation>
        </message>
        <message>
            <source>Files</source>
            <translation>파일</translation>
        </message>
        <message>
            <source>ok</source>
            <translation>정상</translation>
        </message>
        <message>
            <source>failed</source>
            <translation>실패</translation>
        </message>
        <message>
            <source>{ok} · {n} pages by OCR</source>
            <translation>{ok} · {n}쪽은 OCR로 읽음</translation>
        </message>
        <message>
            <source>{n} scanned pages read by OCR, mean confidence {confidence}</source>
            <translation>스캔한 {n}쪽을 OCR로 읽음, 평균 신뢰도 {confidence}</translation>
        </message>
        <message>
            <source>about {n} min left</source>
            <translation>약 {n}분 남음</translation>
        </message>
        <message>
            <source>about {n} s left</source>
            <translation>약 {n}초 남음</translation>
        </message>
        <message>
            <source>{rate} pages/s</source>
            <translation>초당 {rate}쪽</translation>
        </message>
        <message>
            <source>New library…</source>
            <translation>새 라이브러리…</translation>
        </message>
        <message>
            <source>Add PDFs…</source>
            <translation>PDF 추가…</translation>
        </message>
        <message>
            <source>Add folder…</source>
            <translation>폴더 추가…</translation>
        </message>
        <message>
            <source>Remove</source>
            <translation>제거</translation>
        </message>
        <message>
            <source>Library:</source>
            <translation>라이브러리:</translation>
        </message>
        <message>
            <source>Drop PDF files or folders here, or press Ctrl+O.</source>
            <translation>PDF 파일이나 폴더를 여기에 끌어다 놓거나 Ctrl+O를 누르세요.</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>취소</translation>
        </message>
        <message>
            <source>New library</source>
            <translation>새 라이브러리</translation>
        </message>
        <message>
            <source>Name of the new library:</source>
            <translation>새 라이브러리 이름:</translation>
        </message>
        <message>
            <source>{n} added</source>
            <translation>{n}개 추가됨</translation>
        </message>
        <message>
            <source>{n} already there</source>
            <translation>{n}개는 이미 있음</translation>
        </message>
        <message>
            <source>{n} failed</source>
            <translation>{n}개 실패</translation>
        </message>
        <message>
            <source>cancelled; the pages OCR read are kept: add the file again to go on from there</source>
            <translation>취소됨; OCR로 읽은 쪽은 남아 있습니다: 파일을 다시 추가하면 거기서부터 계속합니다</translation>
        </message>
        <message>
            <source>cancelled</source>
            <translation>취소됨</translation>
        </message>
        <message>
            <source>Remove documents</source>
            <translation>문서 제거</translation>
        </message>
        <message>
            <source>Remove from the library?

{names}

The PDF files themselves are not deleted.</source>
            <translation>라이브러리에서 제거할까요?

{names}

PDF 파일 자체는 삭제되지 않습니다.</translation>
        </message>
        <message>
            <source>Add PDFs</source>
            <translation>PDF 추가</translation>
        </message>
        <message>
            <source>PDF files (*.pdf)</source>
            <translation>PDF 파일 (*.pdf)</translation>
        </message>
        <message>
            <source>Add a folder of PDFs</source>
            <translation>PDF 폴더 추가</translation>
        </message>
        <message>
            <source>Starting…</source>
            <translation>시작하는 중…</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <source>rag-desktop — answers from your PDF manuals</source>
            <translation>rag-desktop — PDF 매뉴얼에서 찾는 답</translation>
        </message>
        <message>
            <source>Library</source>
            <translation>라이브러리</translation>
        </message>
        <message>
            <source>Ask</source>
            <translation>질문</translation>
        </message>
        <message>
            <source>Evaluate</source>
            <translation>평가</translation>
        </message>
        <message>
            <source>Model</source>
            <translation>모델</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>파일(&amp;F)</translation>
        </message>
        <message>
            <source>&amp;Add PDFs…</source>
            <translation>PDF 추가(&amp;A)…</translation>
        </message>
        <message>
            <source>Export history as &amp;CSV…</source>
            <translation>기록을 CSV로 내보내기(&amp;C)…</translation>
        </message>
        <message>
            <source>Export history as &amp;Markdown…</source>
            <translation>기록을 Markdown으로 내보내기(&amp;M)…</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>끝내기(&amp;Q)</translation>
        </message>
        <message>
            <source>&amp;Ask</source>
            <translation>질문(&amp;A)</translation>
        </message>
        <message>
            <source>&amp;Stop</source>
            <translation>중지(&amp;S)</translation>
        </message>
        <message>
            <source>&amp;Tools</source>
            <translation>도구(&amp;T)</translation>
        </message>
        <message>
            <source>&amp;Settings…</source>
            <translation>설정(&amp;S)…</translation>
        </message>
        <message>
            <source>&amp;Rescan models</source>
            <translation>모델 다시 찾기(&amp;R)</translation>
        </message>
        <message>
            <source>&amp;About rag-desktop</source>
            <translation>rag-desktop 정보(&amp;A)</translation>
        </message>
        <message>
            <source>&amp;Help</source>
            <translation>도움말(&amp;H)</translation>
        </message>
        <message>
            <source>Cancelling job #{id}…</source>
            <translation>작업 #{id} 취소하는 중…</translation>
        </message>
        <message>
            <source>{file} is no longer in this library</source>
            <translation>{file}은(는) 더 이상 이 라이브러리에 없습니다</translation>
        </message>
        <message>
            <source>Reloading…</source>
            <translation>다시 불러오는 중…</translation>
        </message>
        <message>
            <source>Exported to {where}</source>
            <translation>{where}(으)로 내보냈습니다</translation>
        </message>
        <message>
            <source>Wrote {where}</source>
            <translation>{where}에 저장했습니다</translation>
        </message>
        <message>
            <source>Export failed: {message}</source>
            <translation>내보내기 실패: {message}</translation>
        </message>
        <message>
            <source>Export history</source>
            <translation>기록 내보내기</translation>
        </message>
        <message>
            <source>Exporting to {folder}…</source>
            <translation>{folder}(으)로 내보내는 중…</translation>
        </message>
    </context>
    <context>
        <name>ModelPicker</name>
        <message>
            <source>not on this machine — Manage models… to get it</source>
            <translation>이 컴퓨터에 없음 — 모델 관리…에서 받을 수 있음</translation>
        </message>
        <message>
            <source>Manage models…</source>
            <translation>모델 관리…</translation>
        </message>
        <message>
            <source>Download catalog models, or add a .gguf file from this computer</source>
            <translation>카탈로그 모델을 내려받거나 이 컴퓨터의 .gguf 파일을 추가합니다</translation>
        </message>
        <message>
            <source>Model:</source>
            <translation>모델:</translation>
        </message>
        <message>
            <source>{file} is not on this machine: open Manage models… to get it</source>
            <translation>{file}이(가) 이 컴퓨터에 없습니다. 모델 관리…에서 받을 수 있습니다</translation>
        </message>
    </context>
    <context>
        <name>ModelsDialog</name>
        <message>
            <source>Models</source>
            <translation>모델</translation>
        </message>
        <message>
            <source>{name} added; choose it in the model list.</source>
            <translation>{name}을(를) 추가했습니다. 모델 목록에서 고르세요.</translation>
        </message>
        <message>
            <source>Models folder: {folder}</source>
            <translation>모델 폴더: {folder}</translation>
        </message>
        <message>
            <source>Check again</source>
            <translation>다시 확인</translation>
        </message>
        <message>
            <source>Add local .gguf…</source>
            <translation>로컬 .gguf 추가…</translation>
        </message>
        <message>
            <source>Copy a GGUF model file from this computer into the models folder; it is checked first</source>
            <translation>이 컴퓨터의 GGUF 모델 파일을 모델 폴더로 복사합니다. 복사하기 전에 파일을 검사합니다</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>취소</translation>
        </message>
        <message>
            <source>Add server…</source>
            <translation>서버 추가…</translation>
        </message>
        <message>
            <source>A model on a team's OpenAI-compatible server (llama.cpp server, vLLM)</source>
            <translation>팀의 OpenAI 호환 서버(llama.cpp 서버, vLLM)에 있는 모델</translation>
        </message>
        <message>
            <source>installed</source>
            <translation>설치됨</translation>
        </message>
        <message>
            <source>downloading</source>
            <translation>내려받는 중</translation>
        </message>
        <message>
            <source>partly downloaded ({done} of {total})</source>
            <translation>일부 내려받음 ({total} 중 {done})</translation>
        </message>
        <message>
            <source>not downloaded</source>
            <translation>내려받지 않음</translation>
        </message>
        <message>
            <source>Resume</source>
            <translation>이어 받기</translation>
        </message>
        <message>
            <source>Download</source>
            <translation>내려받기</translation>
        </message>
        <message>
            <source>{file} has no download source: copy it here with Add local .gguf…</source>
            <translation>{file}은(는) 내려받을 곳이 없습니다. 로컬 .gguf 추가…로 복사해 넣으세요</translation>
        </message>
        <message>
            <source>Checking whether the download site can be reached…</source>
            <translation>내려받기 사이트에 연결할 수 있는지 확인하는 중…</translation>
        </message>
        <message>
            <source>Download {file} from {host} (resumable; checked by sha256)</source>
            <translation>{host}에서 {file} 내려받기 (이어 받기 가능, sha256으로 검사)</translation>
        </message>
        <message>
            <source>No network: {host} cannot be reached — copy a .gguf here with Add local .gguf…</source>
            <translation>네트워크 없음: {host}에 연결할 수 없습니다 — 로컬 .gguf 추가…로 .gguf 파일을 복사해 넣으세요</translation>
        </message>
        <message>
            <source>Downloads come from {host}; nothing is downloaded unless you press Download.</source>
            <translation>{host}에서 내려받습니다. 내려받기를 누르기 전에는 아무것도 내려받지 않습니다.</translation>
        </message>
        <message>
            <source>{done} of {total} (%p%)</source>
            <translation>{done} / {total} (%p%)</translation>
        </message>
        <message>
            <source>{name}: download stopped; {kept} kept. Resume continues where it stopped.</source>
            <translation>{name}: 내려받기 중지됨, {kept} 보관됨. 이어 받기를 누르면 멈춘 곳부터 계속합니다.</translation>
        </message>
        <message>
            <source>{name}: download cancelled.</source>
            <translation>{name}: 내려받기를 취소했습니다.</translation>
        </message>
        <message>
            <source>{name}: download failed: {error}</source>
            <translation>{name}: 내려받기 실패: {error}</translation>
        </message>
        <message>
            <source>{name} is downloaded ({where}); choose it in the model list.</source>
            <translation>{name}을(를) 내려받았습니다({where}). 모델 목록에서 고르세요.</translation>
        </message>
        <message>
            <source>Add a local model</source>
            <translation>로컬 모델 추가</translation>
        </message>
        <message>
            <source>GGUF models (*.gguf);;All files (*)</source>
            <translation>GGUF 모델 (*.gguf);;모든 파일 (*)</translation>
        </message>
        <message>
            <source>Checking…</source>
            <translation>검사하는 중…</translation>
        </message>
        <message>
            <source>Adding {path}…</source>
            <translation>{path} 추가하는 중…</translation>
        </message>
        <message>
            <source>Adding the model was cancelled; nothing was copied.</source>
            <translation>모델 추가를 취소했습니다. 아무것도 복사하지 않았습니다.</translation>
        </message>
        <message>
            <source>Added to {folder}; choose it in the model list.</source>
            <translation>{folder}에 추가했습니다. 모델 목록에서 고르세요.</translation>
        </message>
    </context>
    <context>
        <name>PdfPane</name>
        <message>
            <source>Click a source to see its page here.</source>
            <translation>출처를 누르면 여기에 해당 페이지가 보입니다.</translation>
        </message>
        <message>
            <source>No PDF viewer could be started for {path}. Install a PDF viewer or open the file from your file manager (the path can be selected and copied).</source>
            <translation>{path}을(를) 열 PDF 뷰어를 시작하지 못했습니다. PDF 뷰어를 설치하거나 파일 관리자에서 파일을 여세요(경로는 선택해서 복사할 수 있습니다).</translation>
        </message>
        <message>
            <source>Open in viewer</source>
            <translation>뷰어에서 열기</translation>
        </message>
        <message>
            <source>{name}: cannot show it here; opened in the viewer</source>
            <translation>{name}: 여기에 표시할 수 없어 뷰어에서 열었습니다</translation>
        </message>
        <message>
            <source>{name}: cannot show it here</source>
            <translation>{name}: 여기에 표시할 수 없습니다</translation>
        </message>
        <message>
            <source>&lt;b&gt;{name}&lt;/b&gt; — p. {label} (PDF p. {page} of {count})</source>
            <translation>&lt;b&gt;{name}&lt;/b&gt; — {label}쪽 (PDF 전체 {count}페이지 중 {page}페이지)</translation>
        </message>
        <message>
            <source>&lt;b&gt;{name}&lt;/b&gt; — page {page} of {count}</source>
            <translation>&lt;b&gt;{name}&lt;/b&gt; — 전체 {count}페이지 중 {page}페이지</translation>
        </message>
    </context>
    <context>
        <name>RowActions</name>
        <message>
            <source>Download</source>
            <translation>내려받기</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>취소</translation>
        </message>
        <message>
            <source>Installed</source>
            <translation>설치됨</translation>
        </message>
        <message>
            <source>Waiting…</source>
            <translation>대기 중…</translation>
        </message>
        <message>
            <source>{done} of {total} (%p%)</source>
            <translation>{done} / {total} (%p%)</translation>
        </message>
    </context>
    <context>
        <name>SettingsDialog</name>
        <message>
            <source>Normalised scores (default)</source>
            <translation>정규화 점수 (기본값)</translation>
        </message>
        <message>
            <source>Reciprocal rank, LangChain EnsembleRetriever (as specified)</source>
            <translation>역순위, LangChain EnsembleRetriever (명세대로)</translation>
        </message>
        <message>
            <source>Automatic (English; Korean by Tesseract)</source>
            <translation>자동 (영어; 한국어는 Tesseract)</translation>
        </message>
        <message>
            <source>English (RapidOCR)</source>
            <translation>영어 (RapidOCR)</translation>
        </message>
        <message>
            <source>Korean (Tesseract)</source>
            <translation>한국어 (Tesseract)</translation>
        </message>
        <message>
            <source>Off: leave scanned pages out</source>
            <translation>끔: 스캔한 쪽은 빼기</translation>
        </message>
        <message>
            <source>The specified BM25 0.3 / dense 0.7 reciprocal-rank fusion lets BM25 only reorder the dense leg's top 20: on the dev manuals it found fewer reference pages in the top 4 (LilyPond 0.85, R-admin 0.83) than the default (0.92, 0.86), which mixes normalised scores and keeps each leg's best hit. docs/retrieval.md has every number.</source>
            <translation>명세의 BM25 0.3 / 밀집 0.7 역순위 융합에서는 BM25가 밀집 검색 상위 20개의 순서만 바꿉니다. 개발용 매뉴얼에서 이 방식은 상위 4개 안에서 찾은 참조 페이지가 기본값(0.92, 0.86)보다 적었습니다(LilyPond 0.85, R-admin 0.83). 기본값은 정규화한 점수를 섞고 각 검색의 최상위 결과를 지킵니다. 모든 수치는 docs/retrieval.md에 있습니다.</translation>
        </message>
        <message>
            <source>Settings</source>
            <translation>설정</translation>
        </message>
        <message>
            <source>all (auto)</source>
            <translation>전부 (자동)</translation>
        </message>
        <message>
            <source>The llama.cpp build in use has no GPU backend; every layer runs on the CPU whatever this is set to.</source>
            <translation>사용 중인 llama.cpp 빌드에는 GPU 백엔드가 없습니다. 이 값과 상관없이 모든 레이어가 CPU에서 실행됩니다.</translation>
        </message>
        <message>
            <source>auto</source>
            <translation>자동</translation>
        </message>
        <message>
            <source>say "not in the documents" when nothing relevant is found</source>
            <translation>관련 내용이 없으면 "문서에 없음"이라고 답하기</translation>
        </message>
        <message>
            <source>How pages without a text layer (scans) are read when a PDF is added</source>
            <translation>PDF를 추가할 때 텍스트 층이 없는 쪽(스캔)을 읽는 방법</translation>
        </message>
        <message>
            <source>GPU layers (n_gpu_layers)</source>
            <translation>GPU 레이어 (n_gpu_layers)</translation>
        </message>
        <message>
            <source>CPU threads</source>
            <translation>CPU 스레드</translation>
        </message>
        <message>
            <source>Context size (tokens)</source>
            <translation>컨텍스트 크기 (토큰)</translation>
        </message>
        <message>
            <source>Temperature</source>
            <translation>온도</translation>
        </message>
        <message>
            <source>Max answer tokens</source>
            <translation>답변 최대 토큰</translation>
        </message>
        <message>
            <source>Chunks retrieved (k)</source>
            <translation>검색할 청크 수 (k)</translation>
        </message>
        <message>
            <source>BM25 weight (dense = 1 − w)</source>
            <translation>BM25 가중치 (밀집 = 1 − w)</translation>
        </message>
        <message>
            <source>Fusion</source>
            <translation>융합 방식</translation>
        </message>
        <message>
            <source>Relevance gate</source>
            <translation>관련성 게이트</translation>
        </message>
        <message>
            <source>Embedding model (new libraries)</source>
            <translation>임베딩 모델 (새 라이브러리)</translation>
        </message>
        <message>
            <source>Scanned pages (OCR)</source>
            <translation>스캔한 쪽 (OCR)</translation>
        </message>
        <message>
            <source>Language</source>
            <translation>언어</translation>
        </message>
        <message>
            <source>GPU layers, threads and context size apply when the model is loaded again (done for you on OK). The language applies when rag-desktop starts again.</source>
            <translation>GPU 레이어, 스레드, 컨텍스트 크기는 모델을 다시 불러올 때 적용됩니다(확인을 누르면 자동으로 다시 불러옵니다). 언어는 rag-desktop을 다시 시작하면 적용됩니다.</translation>
        </message>
    </context>
    <context>
        <name>Status</name>
        <message>
            <source>CPU only (this llama.cpp build cannot offload)</source>
            <translation>CPU 전용 (이 llama.cpp 빌드는 GPU로 오프로드할 수 없음)</translation>
        </message>
        <message>
            <source>Ready: ask a question about your PDFs.</source>
            <translation>준비 완료: PDF에 대해 질문하세요.</translation>
        </message>
        <message>
            <source>Starting: opening the library and loading the model…</source>
            <translation>시작하는 중: 라이브러리를 열고 모델을 불러오는 중…</translation>
        </message>
        <message>
            <source>GPU layers: set on the server</source>
            <translation>GPU 레이어: 서버에서 설정</translation>
        </message>
        <message>
            <source>GPU layers: none, {cpu_only}</source>
            <translation>GPU 레이어: 없음, {cpu_only}</translation>
        </message>
        <message>
            <source>GPU layers: {layers}</source>
            <translation>GPU 레이어: {layers}</translation>
        </message>
        <message>
            <source>cancelled</source>
            <translation>취소됨</translation>
        </message>
        <message>
            <source>No model</source>
            <translation>모델 없음</translation>
        </message>
        <message>
            <source>No library</source>
            <translation>라이브러리 없음</translation>
        </message>
        <message>
            <source>Library: {name} (1 document)</source>
            <translation>라이브러리: {name} (문서 1개)</translation>
        </message>
        <message>
            <source>Library: {name} ({n} documents)</source>
            <translation>라이브러리: {name} (문서 {n}개)</translation>
        </message>
        <message>
            <source>Model: {id} ({quant})</source>
            <translation>모델: {id} ({quant})</translation>
        </message>
        <message>
            <source>Backend: {backend}</source>
            <translation>백엔드: {backend}</translation>
        </message>
        <message>
            <source>Model: {id} — not loaded</source>
            <translation>모델: {id} — 불러오지 않음</translation>
        </message>
        <message>
            <source>The model runner stopped; the next question loads the model again.</source>
            <translation>모델 실행기가 멈췄습니다. 다음 질문 때 모델을 다시 불러옵니다.</translation>
        </message>
        <message>
            <source>Loading {name}…</source>
            <translation>{name} 불러오는 중…</translation>
        </message>
        <message>
            <source>Opening library {name}…</source>
            <translation>라이브러리 {name} 여는 중…</translation>
        </message>
        <message>
            <source>Loading model {name}…</source>
            <translation>모델 {name} 불러오는 중…</translation>
        </message>
        <message>
            <source>Indexing the sample manual (first start only)…</source>
            <translation>예제 매뉴얼 색인 중 (첫 실행 때만)…</translation>
        </message>
    </context>
</TS>
