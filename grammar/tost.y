/*
 * tost.y -- the grammar of the ToST model language (see docs/dsl.md).
 *
 * A pure, reentrant LALR(1) parser with locations: it builds the AST of
 * tostc.h (`Ast`, allocated in the compilation arena) and does nothing else;
 * names, layers and shapes are checked when dsl.c lowers the AST to the IR.
 *
 * The parser never longjmps: a syntax error is recorded in the DslParser
 * (first error wins) and yyparse returns, so Bison and Flex clean up their
 * own state; dsl.c then reports it with the source line and a caret.  The
 * Bison stack is fixed (YYINITDEPTH == YYMAXDEPTH), so the parser never
 * mallocs; nesting deeper than that is reported as an error.
 *
 *   program  : stmt*
 *   stmt     : 'model' NAME | 'weights' STRING | NAME '=' expr
 *            | 'input' NAME ':' NAME '[' exprs ']' | 'output' NAME ('=' expr)?
 *            | 'for' NAME 'in' 'range' '(' expr (',' expr)? ')' '{' stmt* '}'
 *            | 'def' NAME '(' names ')' '{' stmt* '}' | 'return' expr | ';'
 *   expr     : expr ('+'|'-'|'*'|'/') expr | '-' expr | primary
 *   primary  : INT | FLOAT | STRING | BOOL | NAME | '(' expr ')'
 *            | NAME '(' args ')' ('@' path)?
 *   args     : (expr | NAME '=' expr) (',' ...)*
 *   path     : (NAME | '[' expr ']') ('[' expr ']' | DOTNAME)*   e.g. blocks[i].attn.qkv
 */
%define api.pure full
%define parse.error detailed
%locations
%param {yyscan_t scanner}
%parse-param {DslParser *p}

%code requires {
#include "tostc.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif
}

%code provides {
int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);
}

%code {
#define YYINITDEPTH 2000
#define YYMAXDEPTH 2000

static void yyerror(YYLTYPE *loc, yyscan_t scanner, DslParser *p, const char *msg)
{
	(void)scanner;
	dsl_syntax_error(p, loc, msg);
}

static Ast *mk(DslParser *p, AstKind k, const YYLTYPE *loc)
{
	return ast_new(p, k, loc->first_line, loc->first_column);
}

static Ast *append(Ast *list, Ast *item)
{
	if (!list)
		return item;
	Ast *a = list;
	while (a->next)
		a = a->next;
	a->next = item;
	return list;
}
}

%union {
	int64_t ival;
	double fval;
	const char *str;
	Ast *ast;
}

%token MODEL "'model'" WEIGHTS "'weights'" INPUT "'input'" OUTPUT "'output'"
%token FOR "'for'" IN "'in'" RANGE "'range'" DEF "'def'" RETURN "'return'"
%token <ival> INT "integer" BOOL "'true' or 'false'"
%token <fval> FLOAT "number"
%token <str> NAME "name" DOTNAME "'.name'" STRING "string"
%token ERROR "invalid token"

%type <ast> stmts stmt expr primary call args arg exprs path names opt_names

%left '+' '-'
%left '*' '/'
%precedence NEG

%%

program
	: stmts                 { p->prog = $1; }
	;

stmts
	: %empty                { $$ = NULL; }
	| stmts stmt            { $$ = append($1, $2); }
	;

stmt
	: MODEL NAME            { $$ = mk(p, AST_MODEL, &@1); $$->name = $2; }
	| WEIGHTS STRING        { $$ = mk(p, AST_WEIGHTS, &@1); $$->name = $2; }
	| NAME '=' expr         { $$ = mk(p, AST_ASSIGN, &@1); $$->name = $1; $$->lhs = $3; }
	| INPUT NAME ':' NAME '[' exprs ']'
	                        { $$ = mk(p, AST_INPUT, &@2); $$->name = $2; $$->str = $4;
	                          $$->args = $6; }
	| OUTPUT NAME           { $$ = mk(p, AST_OUTPUT, &@2); $$->name = $2; }
	| OUTPUT NAME '=' expr  { $$ = mk(p, AST_OUTPUT, &@2); $$->name = $2; $$->lhs = $4; }
	| FOR NAME IN RANGE '(' expr ')' '{' stmts '}'
	                        { $$ = mk(p, AST_FOR, &@1); $$->name = $2; $$->rhs = $6;
	                          $$->body = $9; }
	| FOR NAME IN RANGE '(' expr ',' expr ')' '{' stmts '}'
	                        { $$ = mk(p, AST_FOR, &@1); $$->name = $2; $$->lhs = $6;
	                          $$->rhs = $8; $$->body = $11; }
	| DEF NAME '(' opt_names ')' '{' stmts '}'
	                        { $$ = mk(p, AST_DEF, &@2); $$->name = $2; $$->args = $4;
	                          $$->body = $7; }
	| RETURN expr           { $$ = mk(p, AST_RETURN, &@1); $$->lhs = $2; }
	| ';'                   { $$ = NULL; }
	;

opt_names
	: %empty                { $$ = NULL; }
	| names
	;

names
	: NAME                  { $$ = mk(p, AST_NAME, &@1); $$->name = $1; }
	| names ',' NAME        { Ast *a = mk(p, AST_NAME, &@3); a->name = $3; $$ = append($1, a); }
	;

exprs
	: expr
	| exprs ',' expr        { $$ = append($1, $3); }
	;

expr
	: expr '+' expr         { $$ = mk(p, AST_BINARY, &@2); $$->op = '+'; $$->lhs = $1; $$->rhs = $3; }
	| expr '-' expr         { $$ = mk(p, AST_BINARY, &@2); $$->op = '-'; $$->lhs = $1; $$->rhs = $3; }
	| expr '*' expr         { $$ = mk(p, AST_BINARY, &@2); $$->op = '*'; $$->lhs = $1; $$->rhs = $3; }
	| expr '/' expr         { $$ = mk(p, AST_BINARY, &@2); $$->op = '/'; $$->lhs = $1; $$->rhs = $3; }
	| '-' expr %prec NEG    { $$ = mk(p, AST_NEG, &@1); $$->lhs = $2; }
	| primary
	;

primary
	: INT                   { $$ = mk(p, AST_INT, &@1); $$->ival = $1; }
	| FLOAT                 { $$ = mk(p, AST_FLOAT, &@1); $$->fval = $1; }
	| BOOL                  { $$ = mk(p, AST_BOOL, &@1); $$->ival = $1; }
	| STRING                { $$ = mk(p, AST_STR, &@1); $$->name = $1; }
	| NAME                  { $$ = mk(p, AST_NAME, &@1); $$->name = $1; }
	| '(' expr ')'          { $$ = $2; }
	| call
	| call '@' path         { $$ = $1; $$->path = $3; }
	;

call
	: NAME '(' ')'          { $$ = mk(p, AST_CALL, &@1); $$->name = $1; }
	| NAME '(' args ')'     { $$ = mk(p, AST_CALL, &@1); $$->name = $1; $$->args = $3; }
	;

args
	: arg
	| args ',' arg          { $$ = append($1, $3); }
	;

arg
	: expr
	| NAME '=' expr         { $$ = mk(p, AST_KWARG, &@1); $$->name = $1; $$->lhs = $3; }
	;

path
	: NAME                  { $$ = mk(p, AST_PATH_NAME, &@1); $$->name = $1; }
	| '[' expr ']'          { $$ = mk(p, AST_PATH_INDEX, &@2); $$->lhs = $2; }
	| path '[' expr ']'     { Ast *a = mk(p, AST_PATH_INDEX, &@3); a->lhs = $3; $$ = append($1, a); }
	| path DOTNAME          { Ast *a = mk(p, AST_PATH_NAME, &@2); a->name = $2; $$ = append($1, a); }
	;
